package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// Row error codes found by the pre-flight.
const (
	CodeIBXNotPermitted     = "ibx-not-permitted"
	CodeCageNotPermitted    = "cage-not-permitted"
	CodeCabinetNotPermitted = "cabinet-not-permitted"
	CodeAccountNotPermitted = "account-not-permitted"
	CodeUserUnknown         = "user-unknown"
	CodeUserNotActive       = "user-not-active"
)

// Lookup is what the pre-flight asks Equinix.
type Lookup interface {
	Locations(ctx context.Context, ibxs ...string) ([]equinix.Location, error)
	LookupUser(ctx context.Context, username string) (*equinix.User, error)
}

// Checker checks rows against one account, caching every lookup for its
// lifetime: each IBX and each username is asked about once, however many
// rows name it, also when rows are checked concurrently. It is safe for
// concurrent use.
type Checker struct {
	api    Lookup
	flight singleflight.Group

	mu    sync.Mutex
	ibxs  map[string]*site // nil entry: IBX not listed
	users map[string]*equinix.User
}

type site struct {
	loc      equinix.Location
	cages    map[string][]string // cage id → the accounts it is listed for
	cabinets map[string]bool
	accounts map[string]equinix.LocationAccount
}

// New returns a Checker asking api.
func New(api Lookup) *Checker {
	return &Checker{api: api, ibxs: map[string]*site{}, users: map[string]*equinix.User{}}
}

// Prefetch looks up the given IBXs in one call.
func (c *Checker) Prefetch(ctx context.Context, ibxs []string) error {
	var want []string
	c.mu.Lock()
	for _, ibx := range ibxs {
		if _, ok := c.ibxs[ibx]; !ok && !contains(want, ibx) {
			want = append(want, ibx)
		}
	}
	c.mu.Unlock()
	if len(want) == 0 {
		return nil
	}
	locs, err := c.api.Locations(ctx, want...)
	if err != nil {
		return fmt.Errorf("pre-flight: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ibx := range want {
		c.ibxs[ibx] = nil
	}
	for _, l := range locs {
		s := &site{loc: l, cages: map[string][]string{}, cabinets: map[string]bool{}, accounts: map[string]equinix.LocationAccount{}}
		for _, cg := range l.Cages {
			id := strings.ToUpper(cg.ID)
			accts := s.cages[id]
			if accts == nil {
				accts = []string{}
			}
			if cg.AccountNumber != "" && !contains(accts, cg.AccountNumber) {
				accts = append(accts, cg.AccountNumber)
			}
			s.cages[id] = accts
			if cg.CabinetID != "" {
				s.cabinets[strings.ToUpper(cg.CabinetID)] = true
			}
		}
		for _, a := range l.Accounts {
			s.accounts[a.AccountNumber] = a
		}
		c.ibxs[strings.ToUpper(l.IBX)] = s
	}
	return nil
}

func (c *Checker) site(ctx context.Context, ibx string) (*site, error) {
	ibx = strings.ToUpper(ibx)
	c.mu.Lock()
	s, ok := c.ibxs[ibx]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	_, err, _ := c.flight.Do("ibx:"+ibx, func() (any, error) {
		c.mu.Lock()
		_, ok := c.ibxs[ibx]
		c.mu.Unlock()
		if ok {
			return nil, nil // filled since the check above
		}
		return nil, c.Prefetch(ctx, []string{ibx})
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ibxs[ibx], nil
}

// User returns a user, or nil when Equinix does not know the username.
func (c *Checker) User(ctx context.Context, username string) (*equinix.User, error) {
	key := strings.ToLower(username)
	c.mu.Lock()
	u, ok := c.users[key]
	c.mu.Unlock()
	if ok {
		return u, nil
	}
	v, err, _ := c.flight.Do("user:"+key, func() (any, error) {
		// A lookup that finished between the check above and this call
		// has filled the cache: no second lookup.
		c.mu.Lock()
		u, ok := c.users[key]
		c.mu.Unlock()
		if ok {
			return u, nil
		}
		u, err := c.api.LookupUser(ctx, username)
		if err != nil && !errors.Is(err, equinix.ErrNotFound) {
			return nil, fmt.Errorf("pre-flight: %w", err)
		}
		if err != nil {
			u = nil
		}
		c.mu.Lock()
		c.users[key] = u
		c.mu.Unlock()
		return u, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*equinix.User), nil
}

// Visitor appends the row's problems with the account to errs. An error
// return means the lookup itself failed (network, credentials).
func (c *Checker) Visitor(ctx context.Context, h *roster.Header, v *roster.Visitor, errs []roster.RowError) ([]roster.RowError, error) {
	add := func(f roster.Field, value, code, msg, hint string) {
		errs = append(errs, roster.RowError{Row: v.Row, Column: h.Column(f), Field: f.String(),
			Value: value, Code: code, Message: msg, Hint: hint})
	}
	s, err := c.site(ctx, v.IBX)
	if err != nil {
		return errs, err
	}
	cage, cabinet := strings.ToUpper(v.Cage), strings.ToUpper(v.Cabinet)
	cageAccounts, cageListed := []string(nil), false
	if s != nil {
		cageAccounts, cageListed = s.cages[cage]
		// A permissive sandbox takes any well-formed cage it does not
		// list, billed to any account.
		cageListed = cageListed || s.loc.AnyPlace
	}
	if s != nil && cageListed && v.CabinetIsNumber {
		// A number cell lost the cabinet's leading zeros: 101 is 0101.
		match := c.cabinetsNumbered(s, cage, cabinet[len(cage)+1:])
		if len(match) == 0 && s.loc.AnyPlace {
			// A permissive sandbox lists every well-formed cabinet: the
			// number is the cabinet written with four digits, as Equinix
			// numbers them (101 is 0101), unless the cage lists another.
			match = []string{cage + ":" + fourDigits(cabinet[len(cage)+1:])}
		}
		if len(match) != 1 {
			what := "no cabinet numbered " + cabinet[len(cage)+1:]
			if len(match) > 1 {
				what = "several cabinets numbered " + cabinet[len(cage)+1:] + ": " + strings.Join(match, ", ")
			}
			add(roster.FieldCabinet, v.Cabinet, roster.CodeCabinetNumber,
				fmt.Sprintf("Cabinet %s is a number cell, which drops leading zeros, and cage %s has %s", cabinet[len(cage)+1:], v.Cage, what),
				"format the Cabinet column as Text and type the cabinet as the portal shows it; its cabinets are: "+c.cabinetList(s, cage))
			err := c.user(ctx, v, add)
			return errs, err
		}
		v.Cabinet, cabinet = match[0], match[0]
	}
	if s != nil && v.AccountIsNumber && v.Account != "" {
		if _, listed := s.accounts[v.Account]; !listed {
			if match := accountsNumbered(s, v.Account); len(match) == 1 {
				v.Account = match[0]
			}
		}
	}
	switch {
	case s == nil:
		add(roster.FieldIBX, v.IBX, CodeIBXNotPermitted,
			fmt.Sprintf("these credentials may not order work visits at %s (Equinix would refuse it: EQ-2016006)", v.IBX),
			"check the IBX, or ask your master administrator for IBX Access Services ordering permission there")
	case !cageListed:
		add(roster.FieldCage, v.Cage, CodeCageNotPermitted,
			fmt.Sprintf("cage %s is not one you may order work visits for at %s (Equinix would refuse it: EQ-2016006)", v.Cage, v.IBX),
			"check the cage id in the Equinix portal; your cages there are: "+c.cageList(s))
	case cabinet != "" && !s.cabinets[cabinet] && !s.loc.AnyPlace:
		add(roster.FieldCabinet, v.Cabinet, CodeCabinetNotPermitted,
			fmt.Sprintf("cabinet %s is not listed for cage %s (Equinix would refuse it: EQ-2016006)", v.Cabinet, v.Cage),
			"check the cabinet number, or leave Cabinet empty to visit the whole cage; its cabinets are: "+c.cabinetList(s, cage))
	}
	if s != nil {
		c.checkAccount(s, v, cageListed, cageAccounts, add)
	}
	err = c.user(ctx, v, add)
	return errs, err
}

// fourDigits writes a cabinet number with at least four digits.
func fourDigits(n string) string {
	if len(n) >= 4 {
		return n
	}
	return strings.Repeat("0", 4-len(n)) + n
}

// cabinetsNumbered returns the cage's cabinets whose number is n once
// leading zeros are set aside (0101 for 101).
func (c *Checker) cabinetsNumbered(s *site, cage, n string) []string {
	var out []string
	n = strings.TrimLeft(n, "0")
	for _, cg := range s.loc.Cages {
		id := strings.ToUpper(cg.CabinetID)
		if !strings.EqualFold(cg.ID, cage) || !strings.HasPrefix(id, cage+":") {
			continue
		}
		if num := id[len(cage)+1:]; strings.TrimLeft(num, "0") == n && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// accountsNumbered returns the IBX's accounts whose number is n once
// leading zeros are set aside.
func accountsNumbered(s *site, n string) []string {
	var out []string
	n = strings.TrimLeft(n, "0")
	for _, a := range s.loc.Accounts {
		if strings.TrimLeft(a.AccountNumber, "0") == n && !contains(out, a.AccountNumber) {
			out = append(out, a.AccountNumber)
		}
	}
	return out
}

// user adds the problems of the row's registered user, if it has one.
func (c *Checker) user(ctx context.Context, v *roster.Visitor, add func(f roster.Field, value, code, msg, hint string)) error {
	if v.Username != "" {
		u, err := c.User(ctx, v.Username)
		if err != nil {
			return err
		}
		switch {
		case u == nil:
			add(roster.FieldUsername, v.Username, CodeUserUnknown,
				fmt.Sprintf("Equinix has no user %s (the order would fail with EQX-161-403)", v.Username),
				"check the spelling against the Equinix portal, or list the visitor by First Name, Last Name and Company")
		case u.Status != equinix.UserActive:
			add(roster.FieldUsername, v.Username, CodeUserNotActive,
				fmt.Sprintf("user %s is %s: registered visitors must be ACTIVE (the order would fail with EQX-161-403)", v.Username, u.Status),
				userHint(u))
		}
	}
	return nil
}

// checkAccount adds a problem when the row's account (or, with none, the
// cage's) may not order: not listed at the IBX, listed with allowOrder
// false, or not the account the cage is listed for.
func (c *Checker) checkAccount(s *site, v *roster.Visitor, cageListed bool, cageAccounts []string,
	add func(f roster.Field, value, code, msg, hint string)) {
	const refused = " (Equinix would refuse it: EQ-2016006)"
	if v.Account == "" {
		if !cageListed || len(cageAccounts) == 0 {
			return
		}
		for _, n := range cageAccounts {
			if a, ok := s.accounts[n]; !ok || a.AllowOrder {
				return // one account of the cage may order
			}
		}
		add(roster.FieldAccount, "", CodeAccountNotPermitted,
			fmt.Sprintf("cage %s is billed to account %s, which may not order work visits%s", v.Cage, strings.Join(cageAccounts, ", "), refused),
			"ask your master administrator which account may order visits to this cage, and write it in Account Number")
		return
	}
	a, listed := s.accounts[v.Account]
	if !listed && s.loc.AnyPlace {
		// A permissive sandbox takes any well-formed account it does not
		// list (a listed cage keeps its own).
		listed, a.AllowOrder = true, true
	}
	switch {
	case !listed && v.AccountIsNumber:
		add(roster.FieldAccount, v.Account, CodeAccountNotPermitted,
			fmt.Sprintf("account %s may not order work visits at %s%s; the cell is a number, which drops leading zeros", v.Account, v.IBX, refused),
			"format the Account Number column as Text and type the account as the portal shows it, or leave Account Number empty")
	case !listed || !a.AllowOrder:
		add(roster.FieldAccount, v.Account, CodeAccountNotPermitted,
			fmt.Sprintf("account %s may not order work visits at %s%s", v.Account, v.IBX, refused),
			"use the account the cage belongs to, or leave Account Number empty")
	case cageListed && len(cageAccounts) > 0 && !contains(cageAccounts, v.Account):
		add(roster.FieldAccount, v.Account, CodeAccountNotPermitted,
			fmt.Sprintf("cage %s is listed for account %s, not %s%s", v.Cage, strings.Join(cageAccounts, ", "), v.Account, refused),
			"write the cage's account, or leave Account Number empty")
	}
}

// userHint says how to fix a visitor whose user is not ACTIVE.
func userHint(u *equinix.User) string {
	switch u.Status {
	case equinix.UserLocked:
		return fmt.Sprintf("user %s is LOCKED: ask your master administrator to reactivate it, or list the visitor by First Name, Last Name and Company", u.Username)
	case equinix.UserTerminated:
		return fmt.Sprintf("user %s no longer exists for your account: list the visitor by First Name, Last Name and Company, or use their current username", u.Username)
	case equinix.UserApproved:
		return fmt.Sprintf("user %s is approved but not yet active: ask them to sign in to the Equinix Customer Portal once, or list the visitor by First Name, Last Name and Company", u.Username)
	}
	return fmt.Sprintf("ask your master administrator to make %s active, or list the visitor by First Name, Last Name and Company", u.Username)
}

func (c *Checker) cabinetList(s *site, cage string) string {
	var ids []string
	for _, cg := range s.loc.Cages {
		if strings.EqualFold(cg.ID, cage) && cg.CabinetID != "" && !contains(ids, cg.CabinetID) {
			ids = append(ids, cg.CabinetID)
		}
	}
	if len(ids) == 0 {
		return "none listed"
	}
	if len(ids) > 8 {
		ids = append(ids[:8], "…")
	}
	return strings.Join(ids, ", ")
}

func (c *Checker) cageList(s *site) string {
	var ids []string
	for _, cg := range s.loc.Cages {
		if !contains(ids, cg.ID) {
			ids = append(ids, cg.ID)
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	if len(ids) > 8 {
		ids = append(ids[:8], "…")
	}
	return strings.Join(ids, ", ")
}

// Contacts checks the order-level contacts: the technical and notification
// contacts must be ACTIVE or LOCKED users. Each problem is one line with its
// fix.
func (c *Checker) Contacts(ctx context.Context, of roster.OrderFields) ([]roster.RowError, error) {
	var errs []roster.RowError
	check := func(field, username string) error {
		u, err := c.User(ctx, username)
		if err != nil {
			return err
		}
		switch {
		case u == nil:
			errs = append(errs, roster.RowError{Field: field, Value: username, Code: CodeUserUnknown,
				Message: fmt.Sprintf("%s %s is not an Equinix user (orders would fail with EQX-161-403)", field, username),
				Hint:    "use the username exactly as the Equinix portal shows it; your master administrator can look it up"})
		case u.Status != equinix.UserActive && u.Status != equinix.UserLocked:
			hint := "choose an active user as contact, or ask your master administrator to reactivate this one"
			switch u.Status {
			case equinix.UserTerminated:
				hint = "choose another contact: " + username + " no longer exists for your account"
			case equinix.UserApproved:
				hint = "ask " + username + " to sign in to the Equinix Customer Portal once, or choose an active user as contact"
			}
			errs = append(errs, roster.RowError{Field: field, Value: username, Code: CodeUserNotActive,
				Message: fmt.Sprintf("%s %s is %s (orders would fail with EQX-161-403: contacts must be Active and Approved)", field, username, u.Status),
				Hint:    hint})
		}
		return nil
	}
	if of.TechnicalContact != "" {
		if err := check("Technical Contact", of.TechnicalContact); err != nil {
			return errs, err
		}
	}
	for _, n := range of.NotificationContacts {
		if err := check("Notification Contact", n); err != nil {
			return errs, err
		}
	}
	return errs, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
