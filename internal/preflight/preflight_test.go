package preflight

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// counting is a Lookup that counts the calls it passes on to the sandbox.
type counting struct {
	api       Lookup
	locations atomic.Int32
	users     atomic.Int32
}

func (c *counting) Locations(ctx context.Context, ibxs ...string) ([]equinix.Location, error) {
	c.locations.Add(1)
	return c.api.Locations(ctx, ibxs...)
}

func (c *counting) LookupUser(ctx context.Context, username string) (*equinix.User, error) {
	c.users.Add(1)
	return c.api.LookupUser(ctx, username)
}

// newChecker returns a Checker asking an in-process sandbox holding acct
// (nil: the seeded account), through the real Equinix client.
func newChecker(t *testing.T, acct *sandbox.Account) (*Checker, *counting) {
	t.Helper()
	return newCheckerOf(t, sandbox.Config{Account: acct})
}

// newCheckerOf is newChecker for a sandbox configured by cfg.
func newCheckerOf(t *testing.T, cfg sandbox.Config) (*Checker, *counting) {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client, err := equinix.New(equinix.Config{Endpoint: ts.URL, ClientID: sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret, RateLimit: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	api := &counting{api: client}
	return New(api), api
}

// header is a roster header with every column, in template order.
func header() *roster.Header {
	h := &roster.Header{Path: "roster.csv", Row: 1}
	for f := range roster.NumFields {
		h.Index[f] = int(f)
	}
	return h
}

func named(row int, ibx, cage, cabinet, account string) roster.Visitor {
	start := time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC)
	return roster.Visitor{Row: row, IBX: ibx, Cage: cage, Cabinet: cabinet, Account: account,
		Start: start, End: start.Add(8 * time.Hour), FirstName: "Anna", LastName: "de Vries", Company: "Voltcare BV"}
}

func registered(row int, username string) roster.Visitor {
	v := named(row, "AM1", "AM1:01:000111", "", "")
	v.FirstName, v.LastName, v.Company, v.Username = "", "", "", username
	return v
}

func TestVisitor(t *testing.T) {
	t.Parallel()
	c, _ := newChecker(t, nil)
	tests := []struct {
		name     string
		v        roster.Visitor
		code     string // "" for no problem
		column   string
		contains []string // in message or hint
	}{
		{name: "permitted cage", v: named(2, "AM1", "AM1:01:000111", "", "")},
		{name: "permitted cabinet and account", v: named(2, "AM1", "AM1:01:000111", "AM1:01:000111:0101", "100001")},
		{name: "other IBX", v: named(2, "DC2", "DC2:01:123456", "DC2:01:123456:0105", "200001")},
		{name: "active registered visitor", v: registered(2, "jane.visitor")},
		{name: "IBX not permitted", v: named(3, "SV5", "SV5:01:000001", "", ""), code: CodeIBXNotPermitted, column: "A",
			contains: []string{"SV5", "EQ-2016006", "master administrator"}},
		{name: "cage not listed", v: named(4, "AM1", "AM1:02:000999", "", ""), code: CodeCageNotPermitted, column: "B",
			contains: []string{"AM1:02:000999", "EQ-2016006", "AM1:01:000111, AM1:01:000112"}},
		{name: "cabinet not listed", v: named(5, "AM1", "AM1:01:000111", "AM1:01:000111:0199", ""), code: CodeCabinetNotPermitted, column: "C",
			contains: []string{"AM1:01:000111:0199", "EQ-2016006", "AM1:01:000111:0101"}},
		{name: "account may not order", v: named(6, "AM1", "AM1:01:000111", "", "100099"), code: CodeAccountNotPermitted, column: "D",
			contains: []string{"100099", "EQ-2016006"}},
		{name: "account of another IBX", v: named(7, "AM1", "AM1:01:000111", "", "200001"), code: CodeAccountNotPermitted, column: "D",
			contains: []string{"200001"}},
		{name: "LOCKED user", v: registered(8, "jdoe1234"), code: CodeUserNotActive, column: "K",
			contains: []string{"user jdoe1234 is LOCKED", "ask your master administrator to reactivate it", "by First Name, Last Name and Company", "EQX-161-403"}},
		{name: "TERMINATED user", v: registered(9, "former.employee"), code: CodeUserNotActive, column: "K",
			contains: []string{"TERMINATED", "no longer exists", "EQX-161-403"}},
		{name: "APPROVED user", v: registered(10, "pending.user"), code: CodeUserNotActive, column: "K",
			contains: []string{"APPROVED", "sign in", "EQX-161-403"}},
		{name: "unknown user", v: registered(11, "nobody.known"), code: CodeUserUnknown, column: "K",
			contains: []string{"no user nobody.known", "spelling", "EQX-161-403"}},
		{name: "username in other case", v: registered(12, "JANE.VISITOR")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs, err := c.Visitor(t.Context(), header(), &tt.v, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.code == "" {
				if len(errs) != 0 {
					t.Fatalf("problems %v, want none", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("problems %v, want one %s", errs, tt.code)
			}
			e := errs[0]
			if e.Code != tt.code || e.Row != tt.v.Row || e.Column != tt.column || e.Hint == "" || e.Message == "" {
				t.Fatalf("problem %+v, want code %s at row %d column %s with a message and a hint", e, tt.code, tt.v.Row, tt.column)
			}
			for _, s := range tt.contains {
				if !strings.Contains(e.Message+" | "+e.Hint, s) {
					t.Errorf("%q | %q does not say %q", e.Message, e.Hint, s)
				}
			}
		})
	}
}

// TestCageBilledToAccountThatMayNotOrder uses an account file in which a
// cage belongs to an account that may not order.
func TestCageBilledToAccountThatMayNotOrder(t *testing.T) {
	t.Parallel()
	acct := sandbox.DefaultAccount()
	acct.IBXs[0].Cages = append(acct.IBXs[0].Cages, sandbox.Cage{ID: "AM1:01:000199", AccountNumber: "100099"})
	c, _ := newChecker(t, acct)
	v := named(2, "AM1", "AM1:01:000199", "", "")
	errs, err := c.Visitor(t.Context(), header(), &v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Code != CodeAccountNotPermitted || !strings.Contains(errs[0].Message, "100099") {
		t.Fatalf("problems %v, want the cage's account refused", errs)
	}
}

func TestContacts(t *testing.T) {
	t.Parallel()
	c, _ := newChecker(t, nil)
	tests := []struct {
		name  string
		of    roster.OrderFields
		codes []string
	}{
		{name: "active contacts", of: roster.OrderFields{TechnicalContact: "facilities.lead", NotificationContacts: []string{"noc.amsterdam"}}},
		{name: "a LOCKED contact is allowed", of: roster.OrderFields{TechnicalContact: "jdoe1234", NotificationContacts: []string{"jdoe1234"}}},
		{name: "TERMINATED technical contact", of: roster.OrderFields{TechnicalContact: "former.employee"}, codes: []string{CodeUserNotActive}},
		{name: "unknown and APPROVED notification contacts",
			of: roster.OrderFields{NotificationContacts: []string{"nobody.known", "pending.user"}}, codes: []string{CodeUserUnknown, CodeUserNotActive}},
		{name: "no contacts", of: roster.OrderFields{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs, err := c.Contacts(t.Context(), tt.of)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, e := range errs {
				codes = append(codes, e.Code)
				if e.Hint == "" || !strings.Contains(e.Message, "EQX-161-403") || e.Value == "" {
					t.Errorf("problem %+v lacks a hint, the code it prevents or the value", e)
				}
			}
			if strings.Join(codes, ",") != strings.Join(tt.codes, ",") {
				t.Errorf("codes %v, want %v", codes, tt.codes)
			}
		})
	}
}

// TestLookupsCached checks each IBX and username is asked about once per
// Checker, also when rows are checked concurrently.
func TestLookupsCached(t *testing.T) {
	t.Parallel()
	c, api := newChecker(t, nil)
	rows := []roster.Visitor{
		named(2, "AM1", "AM1:01:000111", "", ""), named(3, "AM1", "AM1:01:000112", "", ""),
		named(4, "DC2", "DC2:01:123456", "", ""), named(5, "SV5", "SV5:01:000001", "", ""),
		registered(6, "jane.visitor"), registered(7, "jdoe1234"), registered(8, "Jane.Visitor"), registered(9, "nobody.known"),
	}
	var wg sync.WaitGroup
	for range 4 {
		for i := range rows {
			wg.Go(func() {
				v := rows[i]
				if _, err := c.Visitor(t.Context(), header(), &v, nil); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if _, err := c.Contacts(t.Context(), roster.OrderFields{TechnicalContact: "jdoe1234", NotificationContacts: []string{"jane.visitor"}}); err != nil {
		t.Fatal(err)
	}
	if n := api.locations.Load(); n != 3 {
		t.Errorf("%d location lookups for AM1, DC2 and SV5, want 3", n)
	}
	if n := api.users.Load(); n != 3 {
		t.Errorf("%d user lookups for jane.visitor, jdoe1234 and nobody.known, want 3", n)
	}
}

// TestPrefetch looks several IBXs up in one call.
func TestPrefetch(t *testing.T) {
	t.Parallel()
	c, api := newChecker(t, nil)
	if err := c.Prefetch(t.Context(), []string{"AM1", "DC2", "SV5", "AM1"}); err != nil {
		t.Fatal(err)
	}
	for i, v := range []roster.Visitor{named(2, "AM1", "AM1:01:000111", "", ""), named(3, "DC2", "DC2:01:123456", "", ""), named(4, "SV5", "SV5:01:000001", "", "")} {
		errs, err := c.Visitor(t.Context(), header(), &v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (len(errs) > 0) != (i == 2) {
			t.Errorf("row %d: problems %v", v.Row, errs)
		}
	}
	if n := api.locations.Load(); n != 1 {
		t.Errorf("%d location lookups, want 1", n)
	}
}

// TestLookupFailure checks a failed lookup is returned as an error, not
// as row problems, and names the pre-flight.
func TestLookupFailure(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client, err := equinix.New(equinix.Config{Endpoint: ts.URL, ClientID: sandbox.DefaultClientID, ClientSecret: "wrong-secret", RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	c := New(client)
	v := named(2, "AM1", "AM1:01:000111", "", "")
	errs, err := c.Visitor(t.Context(), header(), &v, nil)
	if !equinix.IsAuth(err) || !strings.HasPrefix(err.Error(), "pre-flight: ") || len(errs) != 0 {
		t.Fatalf("Visitor = %v, %v; want a refusal of the credentials and no row problems", errs, err)
	}
}

// TestNumberCells matches a Cabinet or Account Number that was a number
// cell, and lost its leading zeros, to the account's cabinet or account of
// the same number, when there is exactly one.
func TestNumberCells(t *testing.T) {
	t.Parallel()
	acct := sandbox.DefaultAccount()
	am1 := &acct.IBXs[0]
	am1.Accounts = append(am1.Accounts, sandbox.BillingAccount{Number: "0100002", Name: "Zero", AllowOrder: true})
	am1.Cages[1].Cabinets = append(am1.Cages[1].Cabinets, "AM1:01:000112:00201")
	c, _ := newChecker(t, acct)
	number := func(row int, cabinet, account string) roster.Visitor {
		v := named(row, "AM1", "AM1:01:000111", cabinet, account)
		v.CabinetIsNumber, v.AccountIsNumber = cabinet != "", account != ""
		return v
	}
	// 101 is the cage's cabinet 0101.
	v := number(2, "AM1:01:000111:101", "")
	if errs, err := c.Visitor(t.Context(), header(), &v, nil); err != nil || len(errs) != 0 || v.Cabinet != "AM1:01:000111:0101" {
		t.Errorf("101: %v %v, cabinet %s", errs, err, v.Cabinet)
	}
	// 100002 is account 0100002.
	v = number(3, "", "100002")
	if errs, err := c.Visitor(t.Context(), header(), &v, nil); err != nil || v.Account != "0100002" {
		t.Errorf("100002: %v %v, account %s", errs, err, v.Account)
	}
	// A number that is no account: format the column as text.
	v = number(7, "", "4242")
	if errs, _ := c.Visitor(t.Context(), header(), &v, nil); len(errs) != 1 || errs[0].Code != CodeAccountNotPermitted ||
		!strings.Contains(errs[0].Hint, "format the Account Number column as Text") {
		t.Errorf("4242: %v", errs)
	}
	// The same text, typed as text, is taken as written.
	v = named(4, "AM1", "AM1:01:000111", "AM1:01:000111:101", "")
	if errs, _ := c.Visitor(t.Context(), header(), &v, nil); len(errs) != 1 || errs[0].Code != CodeCabinetNotPermitted {
		t.Errorf("text 101: %v", errs)
	}
	// No cabinet of that number, or two: format the column as text.
	for _, tt := range []struct {
		v    roster.Visitor
		says string
	}{
		{number(5, "AM1:01:000111:199", ""), "no cabinet numbered 199"},
		{func() roster.Visitor {
			v := number(6, "AM1:01:000112:201", "")
			v.Cage = "AM1:01:000112"
			return v
		}(), "several cabinets numbered 201: AM1:01:000112:0201, AM1:01:000112:00201"},
	} {
		errs, err := c.Visitor(t.Context(), header(), &tt.v, nil)
		if err != nil || len(errs) != 1 || errs[0].Code != roster.CodeCabinetNumber || errs[0].Column != "C" ||
			!strings.Contains(errs[0].Message, tt.says) || !strings.Contains(errs[0].Hint, "format the Cabinet column as Text") {
			t.Errorf("row %d: %+v %v", tt.v.Row, errs, err)
		}
	}
}

// TestPermissiveSandbox: against a permissive sandbox the pre-flight takes
// any well-formed place it does not list, as its orders do, while what it
// lists keeps its rules. A Cabinet number cell is the cage's listed cabinet
// of that number when there is one, else the number written with four
// digits (101 is 0101); several listed cabinets of the number are still a
// problem.
func TestPermissiveSandbox(t *testing.T) {
	t.Parallel()
	acct := sandbox.DefaultAccount()
	acct.IBXs[0].Cages[1].Cabinets = append(acct.IBXs[0].Cages[1].Cabinets, "AM1:01:000112:00201")
	c, _ := newCheckerOf(t, sandbox.Config{Account: acct, Permissive: true})
	number := func(row int, ibx, cage, cabinet, account string) roster.Visitor {
		v := named(row, ibx, cage, cabinet, account)
		v.CabinetIsNumber, v.AccountIsNumber = cabinet != "", account != ""
		return v
	}
	for _, tc := range []struct {
		name    string
		v       roster.Visitor
		code    string // "" for no problem
		cabinet string // the cabinet ordered, when no problem
	}{
		{"IBX, cage, cabinet and account not listed", named(2, "SG3", "SG3:02:00X123", "SG3:02:00X123:0417", "700001"), "", "SG3:02:00X123:0417"},
		{"cabinet not listed in a listed cage", named(3, "AM1", "AM1:01:000111", "AM1:01:000111:0199", ""), "", "AM1:01:000111:0199"},
		{"cage not listed at a listed IBX", named(4, "AM1", "AM1:09:000001", "", "300001"), "", ""},
		{"number 101 in a cage not listed", number(5, "SG3", "SG3:02:00X123", "SG3:02:00X123:101", ""), "", "SG3:02:00X123:0101"},
		{"number 7 in a cage not listed", number(6, "TY2", "TY2:01:000001", "TY2:01:000001:7", ""), "", "TY2:01:000001:0007"},
		{"number 12345 in a cage not listed", number(7, "TY2", "TY2:01:000001", "TY2:01:000001:12345", ""), "", "TY2:01:000001:12345"},
		{"number 103 of a listed cabinet", number(8, "AM1", "AM1:01:000111", "AM1:01:000111:103", ""), "", "AM1:01:000111:0103"},
		{"number 199 in a listed cage", number(9, "AM1", "AM1:01:000111", "AM1:01:000111:199", ""), "", "AM1:01:000111:0199"},
		{"number 201 of two listed cabinets", number(10, "AM1", "AM1:01:000112", "AM1:01:000112:201", ""), roster.CodeCabinetNumber, ""},
		{"number account not listed", number(11, "SG3", "SG3:02:00X123", "", "4242"), "", ""},
		{"listed account that may not order", named(12, "AM1", "AM1:01:000111", "", "100099"), CodeAccountNotPermitted, ""},
		{"listed cage on another account", named(13, "AM1", "AM1:01:000111", "", "300001"), CodeAccountNotPermitted, ""},
		{"user not listed", func() roster.Visitor {
			v := registered(14, "some.one.new")
			v.IBX, v.Cage = "SG3", "SG3:02:00X123"
			return v
		}(), "", ""},
		{"listed user not active", registered(15, "jdoe1234"), CodeUserNotActive, ""},
	} {
		errs, err := c.Visitor(t.Context(), header(), &tc.v, nil)
		switch {
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code == "" && (len(errs) != 0 || tc.v.Cabinet != tc.cabinet):
			t.Errorf("%s: %+v, cabinet %q; want no problem, cabinet %q", tc.name, errs, tc.v.Cabinet, tc.cabinet)
		case tc.code != "" && (len(errs) != 1 || errs[0].Code != tc.code):
			t.Errorf("%s: %+v; want %s", tc.name, errs, tc.code)
		}
	}
}
