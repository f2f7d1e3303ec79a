// Package preflight checks roster rows against the Equinix account before
// anything is ordered: cages, cabinets and accounts the credentials may order
// for, and users that exist and are active.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

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
// lifetime. It is safe for concurrent use.
type Checker struct {
	api Lookup

	mu    sync.Mutex
	ibxs  map[string]*site // nil entry: IBX not listed
	users map[string]*equinix.User
}

type site struct {
	loc      equinix.Location
	cages    map[string]bool
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
		s := &site{loc: l, cages: map[string]bool{}, cabinets: map[string]bool{}, accounts: map[string]equinix.LocationAccount{}}
		for _, cg := range l.Cages {
			s.cages[strings.ToUpper(cg.ID)] = true
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
	c.mu.Lock()
	s, ok := c.ibxs[ibx]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	if err := c.Prefetch(ctx, []string{ibx}); err != nil {
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
	switch {
	case s == nil:
		add(roster.FieldIBX, v.IBX, CodeIBXNotPermitted,
			fmt.Sprintf("these credentials may not order work visits at %s", v.IBX),
			"check the IBX, or ask your master administrator for IBX Access Services ordering permission there")
	case !s.cages[v.Cage]:
		add(roster.FieldCage, v.Cage, CodeCageNotPermitted,
			fmt.Sprintf("cage %s is not one you may order work visits for at %s (Equinix would refuse it: EQ-2016006)", v.Cage, v.IBX),
			"check the cage id in the Equinix portal; your cages there are: "+c.cageList(s))
	case v.Cabinet != "" && !s.cabinets[v.Cabinet]:
		add(roster.FieldCabinet, v.Cabinet, CodeCabinetNotPermitted,
			fmt.Sprintf("cabinet %s is not listed for cage %s (Equinix would refuse it: EQ-2016006)", v.Cabinet, v.Cage),
			"check the cabinet number, or leave Cabinet empty to visit the whole cage")
	}
	if s != nil && v.Account != "" {
		if a, ok := s.accounts[v.Account]; !ok || !a.AllowOrder {
			add(roster.FieldAccount, v.Account, CodeAccountNotPermitted,
				fmt.Sprintf("account %s may not order work visits at %s (Equinix would refuse it: EQ-2016006)", v.Account, v.IBX),
				"use the account the cage belongs to, or leave Account Number empty")
		}
	}
	if v.Username != "" {
		u, err := c.User(ctx, v.Username)
		if err != nil {
			return errs, err
		}
		switch {
		case u == nil:
			add(roster.FieldUsername, v.Username, CodeUserUnknown,
				fmt.Sprintf("Equinix has no user %s (the order would fail with EQX-161-403)", v.Username),
				"check the spelling against the Equinix portal, or list the visitor by First Name, Last Name and Company")
		case u.Status != equinix.UserActive:
			add(roster.FieldUsername, v.Username, CodeUserNotActive,
				fmt.Sprintf("user %s is %s (the order would fail with EQX-161-403)", v.Username, u.Status),
				fmt.Sprintf("ask your master administrator to reactivate %s, or list the visitor by First Name, Last Name and Company", v.Username))
		}
	}
	return errs, nil
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
			errs = append(errs, roster.RowError{Field: field, Value: username, Code: CodeUserNotActive,
				Message: fmt.Sprintf("%s %s is %s (orders would fail with EQX-161-403: contacts must be Active and Approved)", field, username, u.Status),
				Hint:    "choose an active user as contact, or ask your master administrator to reactivate this one"})
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
