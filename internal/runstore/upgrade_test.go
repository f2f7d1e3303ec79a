package runstore

import (
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestUpgradeEndpoints opens a store of schema 1 whose runs name their
// endpoint only in their settings, or not at all: each run takes the
// endpoint its settings recorded (else EndpointUnknown), and its claims
// hold visitors only for runs at that endpoint; the claims of a run of
// unknown endpoint hold none.
func TestUpgradeEndpoints(t *testing.T) {
	t.Parallel()
	path := schema1Store(t, map[string]string{
		"rsand": `{"id":"rsand","settings":{"endpoint":"sandbox"},"state":"done","orders":{"submitted":1},"rows":{"ordered":1}}`,
		"rurl":  `{"id":"rurl","settings":{"endpoint":"https://api.equinix.com"},"state":"done","orders":{"submitted":1},"rows":{"ordered":1}}`,
		"rold":  `{"id":"rold","settings":{"roster":"a.csv"},"state":"done","orders":{"submitted":1},"rows":{"ordered":1}}`,
	}, map[string]string{
		"v-sand": `{"runId":"rsand","orderKey":"k","orderId":"1-1","row":2}`,
		"v-url":  `{"runId":"rurl","orderKey":"k","orderId":"1-2","row":2}`,
		"v-old":  `{"runId":"rold","orderKey":"k","orderId":"1-3","row":2}`,
	})

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]string{"rsand": "sandbox", "rurl": "https://api.equinix.com", "rold": EndpointUnknown}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Endpoint != want[r.ID] {
			t.Errorf("run %s: endpoint %q; want %q", r.ID, r.Endpoint, want[r.ID])
		}
	}
	keys := []string{"v-sand", "v-url", "v-old"}
	for _, tc := range []struct {
		at   Where
		want string
	}{
		{Where{Endpoint: "sandbox"}, "v-sand"},
		{Where{Endpoint: "https://api.equinix.com"}, "v-url"},
		// a run that did not learn its account claims for every account
		{Where{Endpoint: "https://api.equinix.com", Account: "jdoe"}, "v-url"},
		{Where{Endpoint: "http://127.0.0.1:8642"}, ""},
	} {
		got, err := s.AlreadyOrdered(tc.at, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 1 || (tc.want == "") != (len(got) == 0) {
			t.Errorf("AlreadyOrdered at %s = %v; want only %q", tc.at, got, tc.want)
		} else if _, ok := got[tc.want]; tc.want != "" && !ok {
			t.Errorf("AlreadyOrdered at %s = %v; want %q", tc.at, got, tc.want)
		}
	}
	if _, err := s.AlreadyOrdered(Where{Endpoint: EndpointUnknown}, keys); err == nil {
		t.Error("AlreadyOrdered at the unknown endpoint: want an error")
	}
}

// TestClaimsPerAccount: a run that knows its account holds its visitors for
// that account, and not for another account at the same endpoint.
func TestClaimsPerAccount(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	alice := Where{Endpoint: "https://api.equinix.com", Account: "alice"}
	orders := specs(1, 1)
	orders[0].VisitorKeys[0] = alice.Key(PlainKey(orders[0].VisitorKeys[0]))
	if _, err := s.CreateRun(Run{ID: "r", Endpoint: alice.Endpoint, Account: alice.Account}, orders, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkSending("r", orders[0].Key); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSubmitted("r", orders[0].Key, "1-1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   Where
		want int
	}{
		{Where{Endpoint: "https://api.equinix.com", Account: "alice"}, 1},
		{Where{Endpoint: "https://api.equinix.com", Account: "bob"}, 0},
		// a ready token: the account is not known, every account's claims hold
		{Where{Endpoint: "https://api.equinix.com"}, 1},
		{Where{Endpoint: "sandbox"}, 0},
	} {
		got, err := s.AlreadyOrdered(tc.at, orders[0].VisitorKeys)
		if err != nil || len(got) != tc.want {
			t.Errorf("AlreadyOrdered at %s = %v, %v; want %d claims", tc.at, got, err, tc.want)
		}
	}
}

// TestUpgradeEndpointsOfUnreadableSettings upgrades a store of schema 1
// with a run whose settings cannot be decoded: it keeps EndpointUnknown,
// the upgrade says so (with the count and the run) once, when it runs, and
// the other runs take their endpoints.
func TestUpgradeEndpointsOfUnreadableSettings(t *testing.T) {
	t.Parallel()
	path := schema1Store(t, map[string]string{
		"rsand": `{"id":"rsand","settings":{"endpoint":"sandbox"},"state":"done"}`,
		"rbad":  `{"id":"rbad","settings":{"endpoint":["sandbox"]},"state":"done"}`,
		"rtext": `{"id":"rtext","settings":"sandbox","state":"done"}`,
	}, nil)

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	notes := s.UpgradeNotes()
	runs, err := s.Runs()
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"rsand": "sandbox", "rbad": EndpointUnknown, "rtext": EndpointUnknown}
	for _, r := range runs {
		if r.Endpoint != want[r.ID] {
			t.Errorf("run %s: endpoint %q; want %q", r.ID, r.Endpoint, want[r.ID])
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "the settings of 2 runs") ||
		!strings.Contains(notes[0], "rbad (") || !strings.Contains(notes[0], "rtext (") || strings.Contains(notes[0], "rsand") {
		t.Errorf("upgrade notes %q; want one naming the 2 runs whose settings cannot be read", notes)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.UpgradeNotes(); len(n) != 0 {
		t.Errorf("opened again, the store notes %q; want nothing (no upgrade ran)", n)
	}
}

// schema1Store writes a store of schema 1 holding runs and visitor claims
// (key: JSON record) and returns its path.
func schema1Store(t *testing.T, runs, visitors map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketRuns, bucketRun, bucketVisitors} {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		for bucket, records := range map[string]map[string]string{string(bucketRuns): runs, string(bucketVisitors): visitors} {
			for k, v := range records {
				if err := tx.Bucket([]byte(bucket)).Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("1"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}
