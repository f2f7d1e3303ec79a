package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// UserStatus is a portal user's state. Visitors and the ordering user must
// be ACTIVE; technical and notification contacts ACTIVE or LOCKED.
type UserStatus string

// The user states Equinix reports.
const (
	UserActive     UserStatus = "ACTIVE"
	UserApproved   UserStatus = "APPROVED" // approved but not yet activated
	UserLocked     UserStatus = "LOCKED"
	UserTerminated UserStatus = "TERMINATED"
)

// Account is what the sandbox's credentials may see and order for: the IBXs
// with their billing accounts, cages and cabinets, and the portal users.
//
// LoadAccount reads it from YAML (JSON is YAML too), with these keys:
//
//	orderingUser: sandbox.orderer        # the user the token belongs to; must be listed in users
//	ibxs:
//	  - code: AM1                         # metro (2 letters) + number
//	    accessRestricted: false
//	    accounts:
//	      - number: "100001"              # quote it: account numbers are strings
//	        name: Acme Amsterdam
//	        allowOrder: true              # false: listed, but orders for it are refused (EQ-2016006)
//	    cages:
//	      - id: AM1:01:000111             # IBX:FLOOR:CAGE, in this IBX
//	        type: PRIVATE                 # PRIVATE (default) or SHARED
//	        accountNumber: "100001"       # one of this IBX's accounts
//	        cabinetType: PRIVATE          # PRIVATE (default) or DEMARCATION
//	        cabinets: [AM1:01:000111:0101, AM1:01:000111:0102]  # cage id + ":NNNN"
//	users:
//	  - username: facilities.lead
//	    firstName: Fiona
//	    lastName: Lead
//	    email: facilities.lead@acme.example
//	    status: ACTIVE                    # ACTIVE, APPROVED, LOCKED or TERMINATED
//
// testdata/account.yaml is DefaultAccount written out in this format.
type Account struct {
	OrderingUser string `yaml:"orderingUser" json:"orderingUser"`
	IBXs         []IBX  `yaml:"ibxs" json:"ibxs"`
	Users        []User `yaml:"users" json:"users"`
}

// IBX is one data centre of an Account.
type IBX struct {
	Code             string           `yaml:"code" json:"code"`
	AccessRestricted bool             `yaml:"accessRestricted" json:"accessRestricted"`
	Accounts         []BillingAccount `yaml:"accounts" json:"accounts"`
	Cages            []Cage           `yaml:"cages" json:"cages"`
}

// BillingAccount is an Equinix customer account number at an IBX.
type BillingAccount struct {
	Number     string `yaml:"number" json:"number"`
	Name       string `yaml:"name" json:"name"`
	AllowOrder bool   `yaml:"allowOrder" json:"allowOrder"`
}

// Cage is a cage and the cabinets in it.
type Cage struct {
	ID            string   `yaml:"id" json:"id"`
	Type          string   `yaml:"type,omitempty" json:"type,omitempty"`
	AccountNumber string   `yaml:"accountNumber" json:"accountNumber"`
	CabinetType   string   `yaml:"cabinetType,omitempty" json:"cabinetType,omitempty"`
	Cabinets      []string `yaml:"cabinets,omitempty" json:"cabinets,omitempty"`
}

// User is a portal user of the account.
type User struct {
	Username  string     `yaml:"username" json:"username"`
	FirstName string     `yaml:"firstName" json:"firstName"`
	LastName  string     `yaml:"lastName" json:"lastName"`
	Email     string     `yaml:"email" json:"email"`
	Status    UserStatus `yaml:"status" json:"status"`
}

// DefaultOrderingUser is the user the sandbox's tokens belong to in DefaultAccount.
const DefaultOrderingUser = "sandbox.orderer"

// DefaultAccount returns the seeded account that the samples, the demo and
// the README use:
//
//   - AM1 (accounts 100001 "Acme Amsterdam", and 100099 "Acme Legacy" which may
//     not order): cages AM1:01:000111 (cabinets :0101…:0110) and
//     AM1:01:000112 (cabinets :0201…:0205), both on 100001. AM1:02:000999 is
//     not listed, so ordering it fails with EQ-2016006.
//   - DC2 (account 200001 "Acme Ashburn"): cage DC2:01:123456 (cabinets :0101…:0105).
//   - LD8 (account 300001 "Acme London", access restricted): cage LD8:01:00AB12
//     (cabinet :0001).
//   - Users: facilities.lead, noc.amsterdam, jane.visitor and sandbox.orderer
//     (the ordering user) ACTIVE; jdoe1234 LOCKED; former.employee
//     TERMINATED; pending.user APPROVED (not yet active).
//
// Each call returns a fresh copy.
func DefaultAccount() *Account {
	cabinets := func(cage string, from, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s:%04d", cage, from+i)
		}
		return out
	}
	return &Account{
		OrderingUser: DefaultOrderingUser,
		IBXs: []IBX{
			{
				Code: "AM1",
				Accounts: []BillingAccount{
					{Number: "100001", Name: "Acme Amsterdam", AllowOrder: true},
					{Number: "100099", Name: "Acme Legacy", AllowOrder: false},
				},
				Cages: []Cage{
					{ID: "AM1:01:000111", Type: "PRIVATE", AccountNumber: "100001", CabinetType: "PRIVATE", Cabinets: cabinets("AM1:01:000111", 101, 10)},
					{ID: "AM1:01:000112", Type: "PRIVATE", AccountNumber: "100001", CabinetType: "PRIVATE", Cabinets: cabinets("AM1:01:000112", 201, 5)},
				},
			},
			{
				Code:     "DC2",
				Accounts: []BillingAccount{{Number: "200001", Name: "Acme Ashburn", AllowOrder: true}},
				Cages: []Cage{
					{ID: "DC2:01:123456", Type: "PRIVATE", AccountNumber: "200001", CabinetType: "PRIVATE", Cabinets: cabinets("DC2:01:123456", 101, 5)},
				},
			},
			{
				Code:             "LD8",
				AccessRestricted: true,
				Accounts:         []BillingAccount{{Number: "300001", Name: "Acme London", AllowOrder: true}},
				Cages: []Cage{
					{ID: "LD8:01:00AB12", Type: "PRIVATE", AccountNumber: "300001", CabinetType: "PRIVATE", Cabinets: cabinets("LD8:01:00AB12", 1, 1)},
				},
			},
		},
		Users: []User{
			{Username: "sandbox.orderer", FirstName: "Sandbox", LastName: "Orderer", Email: "sandbox.orderer@acme.example", Status: UserActive},
			{Username: "facilities.lead", FirstName: "Fiona", LastName: "Lead", Email: "facilities.lead@acme.example", Status: UserActive},
			{Username: "noc.amsterdam", FirstName: "Noc", LastName: "Amsterdam", Email: "noc.amsterdam@acme.example", Status: UserActive},
			{Username: "jane.visitor", FirstName: "Jane", LastName: "Visitor", Email: "jane.visitor@acme.example", Status: UserActive},
			{Username: "jdoe1234", FirstName: "John", LastName: "Doe", Email: "jdoe1234@acme.example", Status: UserLocked},
			{Username: "former.employee", FirstName: "Former", LastName: "Employee", Email: "former.employee@acme.example", Status: UserTerminated},
			{Username: "pending.user", FirstName: "Pending", LastName: "User", Email: "pending.user@acme.example", Status: UserApproved},
		},
	}
}

// LoadAccount reads an Account from a YAML (or JSON) file in the format
// described on Account, and checks it.
func LoadAccount(path string) (*Account, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sandbox account: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var a Account
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("read sandbox account %s: %w", path, err)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox account %s: %w", path, err)
	}
	return &a, nil
}

var (
	ibxCodeRe  = regexp.MustCompile(`^[A-Z]{2}[0-9]{1,2}$`)
	cageIDRe   = regexp.MustCompile(`^([A-Z]{2}[0-9]{1,2}):[0-9A-Z]{1,4}:[0-9A-Z]{1,12}(?:-[0-9A-Z]{1,6})?$`)
	cabinetRe  = regexp.MustCompile(`^(.+):[0-9A-Z]{1,8}$`)
	accountRe  = regexp.MustCompile(`^[0-9]{1,20}$`)
	usernameOK = func(s string) bool {
		return len(s) >= 8 && len(s) <= 100 && !strings.ContainsAny(s, " \t#?!$^*;<>[]{}%'\"")
	}
)

// cageIBX returns the IBX of a well-formed cage id, or "".
func cageIBX(id string) string {
	m := cageIDRe.FindStringSubmatch(id)
	if m == nil {
		return ""
	}
	return m[1]
}

// cabinetInCage reports whether cabinet id is well formed and inside cage.
func cabinetInCage(cabinet, cage string) bool {
	m := cabinetRe.FindStringSubmatch(cabinet)
	return m != nil && m[1] == cage
}

// Validate reports the first inconsistency of a: malformed or duplicate
// codes, cages outside their IBX, cabinets outside their cage, accounts not
// listed at the IBX, unknown statuses, or an ordering user not in Users.
func (a *Account) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	ibxSeen := map[string]bool{}
	cageSeen := map[string]bool{}
	for i, ibx := range a.IBXs {
		at := fmt.Sprintf("ibxs[%d]", i)
		if !ibxCodeRe.MatchString(ibx.Code) {
			bad("%s.code %q is not an IBX code such as AM1", at, ibx.Code)
		}
		if ibxSeen[ibx.Code] {
			bad("%s.code %q is listed twice", at, ibx.Code)
		}
		ibxSeen[ibx.Code] = true
		accts := map[string]bool{}
		for j, acct := range ibx.Accounts {
			if !accountRe.MatchString(acct.Number) {
				bad("%s.accounts[%d].number %q is not an account number (digits)", at, j, acct.Number)
			}
			accts[acct.Number] = true
		}
		for j, c := range ibx.Cages {
			cat := fmt.Sprintf("%s.cages[%d]", at, j)
			switch got := cageIBX(c.ID); {
			case got == "":
				bad("%s.id %q is not a cage id such as %s:01:000111", cat, c.ID, ibx.Code)
			case got != ibx.Code:
				bad("%s.id %q is not in IBX %s", cat, c.ID, ibx.Code)
			}
			if cageSeen[c.ID] {
				bad("%s.id %q is listed twice", cat, c.ID)
			}
			cageSeen[c.ID] = true
			if !accts[c.AccountNumber] {
				bad("%s.accountNumber %q is not one of %s's accounts", cat, c.AccountNumber, ibx.Code)
			}
			if c.Type != "" && c.Type != "PRIVATE" && c.Type != "SHARED" {
				bad("%s.type %q is not PRIVATE or SHARED", cat, c.Type)
			}
			if c.CabinetType != "" && c.CabinetType != "PRIVATE" && c.CabinetType != "DEMARCATION" {
				bad("%s.cabinetType %q is not PRIVATE or DEMARCATION", cat, c.CabinetType)
			}
			for k, cab := range c.Cabinets {
				if !cabinetInCage(cab, c.ID) {
					bad("%s.cabinets[%d] %q is not a cabinet of cage %s (expected %s:NNNN)", cat, k, cab, c.ID, c.ID)
				}
			}
		}
	}
	users := map[string]bool{}
	for i, u := range a.Users {
		if !usernameOK(u.Username) {
			bad("users[%d].username %q is not a username (8 to 100 characters, no spaces or #?!$^*;<>[]{}%%'\")", i, u.Username)
		}
		if users[strings.ToLower(u.Username)] {
			bad("users[%d].username %q is listed twice", i, u.Username)
		}
		users[strings.ToLower(u.Username)] = true
		switch u.Status {
		case UserActive, UserApproved, UserLocked, UserTerminated:
		default:
			bad("users[%d].status %q is not ACTIVE, APPROVED, LOCKED or TERMINATED", i, u.Status)
		}
	}
	switch {
	case a.OrderingUser == "":
		bad("orderingUser is missing")
	case !users[strings.ToLower(a.OrderingUser)]:
		bad("orderingUser %q is not listed in users", a.OrderingUser)
	}
	return errors.Join(errs...)
}

// clone returns a deep copy of a.
func (a *Account) clone() *Account {
	c := &Account{OrderingUser: a.OrderingUser, Users: append([]User(nil), a.Users...)}
	for _, ibx := range a.IBXs {
		n := ibx
		n.Accounts = append([]BillingAccount(nil), ibx.Accounts...)
		n.Cages = nil
		for _, cg := range ibx.Cages {
			cg.Cabinets = append([]string(nil), cg.Cabinets...)
			n.Cages = append(n.Cages, cg)
		}
		c.IBXs = append(c.IBXs, n)
	}
	return c
}

// index is an Account arranged for lookups. It is never modified after New.
type index struct {
	acct     *Account
	ibx      map[string]*IBX
	cage     map[string]*Cage
	cageIBX  map[string]string
	billing  map[string]BillingAccount // by number
	cabinets map[string]bool
	users    map[string]User // by lower-case username
}

func newIndex(a *Account) *index {
	x := &index{
		acct:     a,
		ibx:      map[string]*IBX{},
		cage:     map[string]*Cage{},
		cageIBX:  map[string]string{},
		billing:  map[string]BillingAccount{},
		cabinets: map[string]bool{},
		users:    map[string]User{},
	}
	for i := range a.IBXs {
		ibx := &a.IBXs[i]
		x.ibx[ibx.Code] = ibx
		for _, b := range ibx.Accounts {
			x.billing[b.Number] = b
		}
		for j := range ibx.Cages {
			c := &ibx.Cages[j]
			x.cage[c.ID] = c
			x.cageIBX[c.ID] = ibx.Code
			for _, cab := range c.Cabinets {
				x.cabinets[cab] = true
			}
		}
	}
	for _, u := range a.Users {
		x.users[strings.ToLower(u.Username)] = u
	}
	return x
}

func (x *index) user(name string) (User, bool) {
	u, ok := x.users[strings.ToLower(name)]
	return u, ok
}
