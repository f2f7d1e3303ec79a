package sandbox

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tests := []struct {
		name     string
		query    string
		wantIBXs string
		check    func(t *testing.T, ls []locationAnswer)
	}{
		{"all", "permissionCode=WORK_VISIT&details=true", "AM1 DC2 LD8", func(t *testing.T, ls []locationAnswer) {
			am1 := ls[0]
			if len(am1.Cages) != 15 || am1.Cages[0].ID != "AM1:01:000111" || am1.Cages[0].CabinetID != "AM1:01:000111:0101" ||
				am1.Cages[14].CabinetID != "AM1:01:000112:0205" || am1.Cages[0].AccountNumber != "100001" || am1.Cages[0].Type != "PRIVATE" {
				t.Errorf("AM1 cages %+v", am1.Cages)
			}
			if len(am1.Accounts) != 2 || am1.Accounts[1] != (accountAnswer{"100099", "Acme Legacy", false}) {
				t.Errorf("AM1 accounts %+v", am1.Accounts)
			}
			if !ls[2].AccessRestricted || ls[0].AccessRestricted {
				t.Errorf("accessRestricted: %+v", ls)
			}
		}},
		{"filtered", "permissionCode=WORK_VISIT&details=true&ibxs=DC2,LD8", "DC2 LD8", func(t *testing.T, ls []locationAnswer) {
			if len(ls[0].Cages) != 5 || ls[0].Cages[4].CabinetID != "DC2:01:123456:0105" {
				t.Errorf("DC2 cages %+v", ls[0].Cages)
			}
		}},
		{"repeated ibxs, lower case", "permissionCode=WORK_VISIT&details=true&ibxs=am1&ibxs=ld8", "AM1 LD8", nil},
		{"unknown IBX", "permissionCode=WORK_VISIT&ibxs=SV5", "", nil},
		{"without details", "permissionCode=WORK_VISIT", "AM1 DC2 LD8", func(t *testing.T, ls []locationAnswer) {
			if ls[0].Cages != nil || ls[0].Accounts != nil {
				t.Errorf("details without details=true: %+v", ls[0])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := e.do("GET", "/colocations/v2/locations?"+tc.query, nil, e.login())
			if a.status != 200 {
				t.Fatalf("%d %s", a.status, a)
			}
			var ans struct {
				WorkVisits []locationAnswer `json:"workVisits"`
			}
			mustUnmarshal(t, a.body, &ans)
			var got []string
			for _, l := range ans.WorkVisits {
				got = append(got, l.IBX)
			}
			if strings.Join(got, " ") != tc.wantIBXs {
				t.Fatalf("IBXs %v, want %s", got, tc.wantIBXs)
			}
			if tc.check != nil {
				tc.check(t, ans.WorkVisits)
			}
		})
	}
	t.Run("permissionCode missing", func(t *testing.T) {
		t.Parallel()
		wantError(t, e.do("GET", "/colocations/v2/locations", nil, e.login()), 400, CodeLookupMissingParam, "permissionCode")
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tests := []struct {
		name  string
		query string
		want  string // username:status ...
		total int
	}{
		{"by username", "keyword=jdoe1234", "jdoe1234:LOCKED", 1},
		{"by last name, any case", "keyword=VISITOR", "jane.visitor:ACTIVE", 1},
		{"terminated", "keyword=former", "former.employee:TERMINATED", 1},
		{"approved", "keyword=pending.user", "pending.user:APPROVED", 1},
		{"status filter", "keyword=acme.example&status=ACTIVE", "sandbox.orderer:ACTIVE facilities.lead:ACTIVE noc.amsterdam:ACTIVE jane.visitor:ACTIVE", 4},
		{"two statuses", "status=LOCKED,TERMINATED", "jdoe1234:LOCKED former.employee:TERMINATED", 2},
		{"paging", "keyword=acme&offset=2&limit=2", "noc.amsterdam:ACTIVE jane.visitor:ACTIVE", 7},
		{"past the end", "offset=50", "", 7},
		{"unknown", "keyword=nobody", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := e.do("GET", "/access/v2/users?"+tc.query, nil, e.login())
			if a.status != 200 {
				t.Fatalf("%d %s", a.status, a)
			}
			var ans usersAnswer
			mustUnmarshal(t, a.body, &ans)
			var got []string
			for _, u := range ans.Data {
				got = append(got, u.Username+":"+string(u.Status))
			}
			if strings.Join(got, " ") != tc.want || ans.Pagination.Total != tc.total {
				t.Fatalf("got %v total %d, want %s total %d", got, ans.Pagination.Total, tc.want, tc.total)
			}
		})
	}
	t.Run("permissive", func(t *testing.T) {
		t.Parallel()
		p := newEnv(t, Config{Permissive: true})
		for _, tc := range []struct{ query, want string }{
			{"keyword=Some.Body", "Some.Body:ACTIVE"}, // any well-formed username is an active user
			{"keyword=jdoe1234", "jdoe1234:LOCKED"},   // listed users keep their status
			{"keyword=some.body&status=LOCKED", ""},   // and the status filter applies
			{"keyword=jdoe", "jdoe1234:LOCKED"},       // too short to be a username: only the listed match
			{"keyword=former.employee", "former.employee:TERMINATED"},
		} {
			a := p.do("GET", "/access/v2/users?"+tc.query, nil, p.login())
			var ans usersAnswer
			mustUnmarshal(t, a.body, &ans)
			var got []string
			for _, u := range ans.Data {
				got = append(got, u.Username+":"+string(u.Status))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("%s: got %v, want %q", tc.query, got, tc.want)
			}
		}
	})
	for _, q := range []string{"limit=0", "limit=101", "offset=-1", "status=GONE"} {
		t.Run("bad "+q, func(t *testing.T) {
			t.Parallel()
			if a := e.do("GET", "/access/v2/users?"+q, nil, e.login()); a.status != http.StatusBadRequest {
				t.Fatalf("%d %s", a.status, a)
			}
		})
	}
}

func TestLoadAccount(t *testing.T) {
	t.Parallel()
	t.Run("example file is the default account", func(t *testing.T) {
		t.Parallel()
		a, err := LoadAccount("testdata/account.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, DefaultAccount()) {
			t.Fatalf("testdata/account.yaml differs from DefaultAccount:\n%+v\n%+v", a, DefaultAccount())
		}
	})
	bad := []struct {
		name, yaml, want string
	}{
		{"unknown key", "orderingUser: a.b.c.d.e\nibx: []\n", "field ibx not found"},
		{"cage outside IBX", `orderingUser: some.user
ibxs: [{code: AM1, accounts: [{number: "1", name: A, allowOrder: true}], cages: [{id: "DC2:01:000001", accountNumber: "1"}]}]
users: [{username: some.user, status: ACTIVE}]
`, "not in IBX AM1"},
		{"cabinet outside cage", `orderingUser: some.user
ibxs: [{code: AM1, accounts: [{number: "1", name: A, allowOrder: true}], cages: [{id: "AM1:01:000001", accountNumber: "1", cabinets: ["AM1:01:000002:0101"]}]}]
users: [{username: some.user, status: ACTIVE}]
`, "is not a cabinet of cage"},
		{"account not at IBX", `orderingUser: some.user
ibxs: [{code: AM1, accounts: [], cages: [{id: "AM1:01:000001", accountNumber: "1"}]}]
users: [{username: some.user, status: ACTIVE}]
`, "is not one of AM1's accounts"},
		{"bad status", "orderingUser: some.user\nusers: [{username: some.user, status: ENABLED}]\n", "is not ACTIVE"},
		{"ordering user missing", "orderingUser: some.user\nusers: []\n", "not listed in users"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "account.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadAccount(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		if _, err := LoadAccount(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
			t.Fatal("no error")
		}
	})
}

// customAccount is a one-IBX account read from a file.
const customAccount = `{
  "orderingUser": "ops.orderer",
  "ibxs": [{"code": "SG1", "accounts": [{"number": "555", "name": "Acme Singapore", "allowOrder": true}],
            "cages": [{"id": "SG1:03:00CC01", "accountNumber": "555", "cabinets": ["SG1:03:00CC01:0001"]}]}],
  "users": [{"username": "ops.orderer", "status": "ACTIVE"}, {"username": "gone.person", "status": "TERMINATED"}]
}`

func sg1Body() map[string]any {
	b := visitBody()
	delete(b, "contacts")
	details(b)["cages"] = []any{map[string]any{"id": "SG1:03:00CC01", "cabinetId": "SG1:03:00CC01:0001"}}
	details(b)["visitors"] = []any{map[string]any{"firstName": "A", "lastName": "B", "companyName": "C"}}
	return b
}

func TestAccountFileAndPermissive(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "account.json")
	if err := os.WriteFile(p, []byte(customAccount), 0o600); err != nil {
		t.Fatal(err)
	}
	acct, err := LoadAccount(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		permissive bool
		mut        func(b map[string]any)
		wantStatus int
		wantCode   string
	}{
		{"listed cage", false, func(map[string]any) {}, 201, ""},
		{"default account's cage is unknown here", false, func(b map[string]any) {
			details(b)["cages"] = []any{map[string]any{"id": "AM1:01:000111"}}
		}, 403, CodeCageNotPermitted},
		{"unlisted cage, strict", false, func(b map[string]any) {
			details(b)["cages"] = []any{map[string]any{"id": "SG1:04:000777", "cabinetId": "SG1:04:000777:0101", "accountNumber": "999"}}
		}, 403, CodeCageNotPermitted},
		{"unlisted cage, permissive", true, func(b map[string]any) {
			details(b)["cages"] = []any{map[string]any{"id": "SG1:04:000777", "cabinetId": "SG1:04:000777:0101", "accountNumber": "999"}}
		}, 201, ""},
		{"unlisted user, strict", false, func(b map[string]any) {
			details(b)["visitors"] = []any{map[string]any{"registeredUsers": []any{"some.body"}}}
		}, 403, CodeUserNotActive},
		{"unlisted user, permissive", true, func(b map[string]any) {
			details(b)["visitors"] = []any{map[string]any{"registeredUsers": []any{"some.body"}}}
		}, 201, ""},
		{"malformed user, permissive", true, func(b map[string]any) {
			details(b)["visitors"] = []any{map[string]any{"registeredUsers": []any{"x y"}}}
		}, 403, CodeUserNotActive},
		{"listed terminated user, permissive", true, func(b map[string]any) {
			details(b)["visitors"] = []any{map[string]any{"registeredUsers": []any{"gone.person"}}}
		}, 403, CodeUserNotActive},
		{"malformed cage, permissive", true, func(b map[string]any) {
			details(b)["cages"] = []any{map[string]any{"id": "SG1-03"}}
		}, 400, CodeMissingProperties},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{Account: acct, Permissive: tc.permissive})
			b := sg1Body()
			tc.mut(b)
			a := e.create(b)
			if tc.wantStatus == 201 {
				if a.status != 201 {
					t.Fatalf("%d %s", a.status, a)
				}
				return
			}
			wantError(t, a, tc.wantStatus, tc.wantCode)
		})
	}
	t.Run("token user and locations", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{Account: acct})
		a := e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, DefaultClientSecret), "")
		if !strings.Contains(a.String(), `"user_name":"ops.orderer"`) {
			t.Fatalf("token %s", a)
		}
		a = e.do("GET", "/colocations/v2/locations?permissionCode=WORK_VISIT&details=true", nil, e.login())
		if !strings.Contains(a.String(), `"cabinetId":"SG1:03:00CC01:0001"`) || strings.Contains(a.String(), "AM1") {
			t.Fatalf("locations %s", a)
		}
	})
	t.Run("invalid account in Config", func(t *testing.T) {
		t.Parallel()
		bad := DefaultAccount()
		bad.OrderingUser = "nobody.here"
		if _, err := New(Config{Account: bad}); err == nil || !strings.Contains(err.Error(), "orderingUser") {
			t.Fatalf("New: %v", err)
		}
	})
	t.Run("Config account is copied", func(t *testing.T) {
		t.Parallel()
		a := DefaultAccount()
		e := newEnv(t, Config{Account: a})
		a.IBXs[0].Cages[0].ID = "AM1:09:999999"
		if got := e.create(visitBody()); got.status != 201 {
			t.Fatal(fmt.Sprint("changing the caller's Account changed the server: ", got.status, got))
		}
	})
}

// TestPermissiveLocations: a permissive sandbox answers every well-formed
// IBX asked for, the account's with its places and the others with none,
// each marked sandboxPermissive; a strict one answers the account's IBXs
// only, unmarked.
func TestPermissiveLocations(t *testing.T) {
	t.Parallel()
	locations := func(e *env, query string) []locationAnswer {
		t.Helper()
		a := e.do("GET", "/colocations/v2/locations?permissionCode=WORK_VISIT&details=true"+query, nil, e.login())
		if a.status != 200 {
			t.Fatalf("%s: %d %s", query, a.status, a)
		}
		if bytes.Contains(a.body, []byte("sandboxPermissive")) != (e.srv.cfg.Permissive) {
			t.Errorf("%s: the permissive mark is wrong: %s", query, a.body)
		}
		var ans struct {
			WorkVisits []locationAnswer `json:"workVisits"`
		}
		mustUnmarshal(t, a.body, &ans)
		return ans.WorkVisits
	}
	ibxs := func(ls []locationAnswer) string {
		var out []string
		for _, l := range ls {
			out = append(out, fmt.Sprintf("%s:%d/%d:%v", l.IBX, len(l.Accounts), len(l.Cages), l.Permissive))
		}
		return strings.Join(out, " ")
	}
	p, strict := newEnv(t, Config{Permissive: true}), newEnv(t, Config{})
	for _, tc := range []struct {
		e           *env
		query, want string
	}{
		{p, "&ibxs=AM1,SG3,sg3", "AM1:2/15:true SG3:0/0:true"},
		{p, "&ibxs=TY2&ibxs=Amsterdam", "TY2:0/0:true"},    // only well-formed codes
		{p, "", "AM1:2/15:true DC2:1/5:true LD8:1/1:true"}, // nothing asked: the account's
		{strict, "&ibxs=AM1,SG3", "AM1:2/15:false"},
	} {
		if got := ibxs(locations(tc.e, tc.query)); got != tc.want {
			t.Errorf("%s: %s; want %s", tc.query, got, tc.want)
		}
	}
}
