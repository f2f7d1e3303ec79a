package equinix

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"testing"
)

func TestLocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ibxs      []string
		wantQuery string
	}{
		{name: "everywhere", wantQuery: "details=true&permissionCode=WORK_VISIT"},
		{name: "some IBXs", ibxs: []string{"am1", " DC2 ", "AM1", ""}, wantQuery: "details=true&ibxs=AM1%2CDC2&permissionCode=WORK_VISIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("GET /colocations/v2/locations", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.RawQuery != tt.wantQuery {
					t.Errorf("query = %q, want %q", r.URL.RawQuery, tt.wantQuery)
				}
				writeJSON(w, 200, `{"workVisits":[{"ibx":"AM1","accessRestricted":false,"specialPrivilege":false,
					"accounts":[{"accountNumber":"10000001","accountName":"Company Limited","allowOrder":true}],
					"cages":[{"id":"AM1:01:000111","type":"PRIVATE","accountNumber":"10000001","cabinetId":"AM1:01:000111:0101","cabinetType":"PRIVATE"}]}]}`)
			})
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			got, err := c.Locations(t.Context(), tt.ibxs...)
			if err != nil {
				t.Fatal(err)
			}
			want := []Location{{
				IBX:      "AM1",
				Accounts: []LocationAccount{{AccountNumber: "10000001", AccountName: "Company Limited", AllowOrder: true}},
				Cages:    []LocationCage{{ID: "AM1:01:000111", Type: "PRIVATE", AccountNumber: "10000001", CabinetID: "AM1:01:000111:0101", CabinetType: "PRIVATE"}},
			}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Locations = %+v, want %+v", got, want)
			}
		})
	}
}

// usersHandler serves n users named user0000… with offset/limit paging,
// and reports the offsets asked for.
func usersHandler(t *testing.T, n int) (http.HandlerFunc, func() []int) {
	var (
		mu      sync.Mutex
		offsets []int
	)
	seen := func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), offsets...)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		q := r.URL.Query()
		offset, _ := strconv.Atoi(q.Get("offset"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 || limit > 1000 {
			t.Errorf("limit = %q", q.Get("limit"))
			limit = 10
		}
		offsets = append(offsets, offset)
		var data []map[string]string
		for i := offset; i < min(n, offset+limit); i++ {
			status := []string{"ACTIVE", "LOCKED", "TERMINATED", "APPROVED"}[i%4]
			data = append(data, map[string]string{"username": fmt.Sprintf("user%04d", i), "firstName": "F", "lastName": "L", "status": status})
		}
		b, _ := json.Marshal(map[string]any{"pagination": map[string]int{"offset": offset, "limit": limit, "total": n}, "data": data})
		writeJSON(w, 200, string(b))
	}, seen
}

func TestUsersPaging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		total       int
		wantOffsets []int
	}{
		{name: "none", total: 0, wantOffsets: []int{0}},
		{name: "one page", total: 7, wantOffsets: []int{0}},
		{name: "exactly one full page", total: 100, wantOffsets: []int{0}},
		{name: "three pages", total: 250, wantOffsets: []int{0, 100, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			h, offsets := usersHandler(t, tt.total)
			f.handle("GET /access/v2/users", h)
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			got, err := c.Users(t.Context(), "user")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.total {
				t.Errorf("got %d users, want %d", len(got), tt.total)
			}
			if got := offsets(); !reflect.DeepEqual(got, tt.wantOffsets) {
				t.Errorf("offsets = %v, want %v", got, tt.wantOffsets)
			}
		})
	}
}

func TestLookupUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		username     string
		wantStatus   UserStatus
		wantNotFound bool
	}{
		{name: "active", username: "user0000", wantStatus: UserActive},
		{name: "locked, other case", username: "USER0001", wantStatus: UserLocked},
		{name: "terminated", username: "user0002", wantStatus: UserTerminated},
		{name: "unknown", username: "nobody", wantNotFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			h, _ := usersHandler(t, 4)
			f.handle("GET /access/v2/users", h)
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			u, err := c.LookupUser(t.Context(), tt.username)
			if tt.wantNotFound {
				if !IsNotFound(err) {
					t.Fatalf("err = %v, want IsNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", u.Status, tt.wantStatus)
			}
		})
	}
}

func TestUserAcceptsUserName(t *testing.T) {
	t.Parallel()
	var u User
	if err := json.Unmarshal([]byte(`{"userName":"jdoe1234","status":"active"}`), &u); err != nil {
		t.Fatal(err)
	}
	if u.Username != "jdoe1234" || u.Status != UserActive {
		t.Errorf("User = %+v", u)
	}
}
