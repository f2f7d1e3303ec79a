package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
)

// syncBuffer is a bytes.Buffer safe to write from the command's goroutine
// while the test reads it.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{} // closed (and replaced) by each Write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wrote != nil {
		close(s.wrote)
		s.wrote = nil
	}
	return s.b.Write(p)
}

// await waits, at most limit, until what was written matches re, and
// returns the match (nil when it timed out).
func (s *syncBuffer) await(limit time.Duration, re *regexp.Regexp) []string {
	timeout := time.After(limit)
	for {
		s.mu.Lock()
		m := re.FindStringSubmatch(s.b.String())
		if s.wrote == nil {
			s.wrote = make(chan struct{})
		}
		wrote := s.wrote
		s.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-wrote:
		case <-timeout:
			return nil
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveSandbox runs 'wvbatch sandbox args…' until the test ends and returns
// what it told the user to export, once it said it.
func serveSandbox(t *testing.T, args ...string) (map[string]string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	e := &env{getenv: func(string) string { return "" }, stdout: out, stderr: io.Discard, now: time.Now}
	cmd := newSandboxCmd(e)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox: %v", err)
		}
		if !strings.Contains(out.String(), "sandbox stopped") {
			t.Errorf("the sandbox did not say it stopped:\n%s", out)
		}
	})
	exportRe := regexp.MustCompile(`export (EQUINIX_API_ENDPOINT=\S+) (EQUINIX_API_CLIENTID=\S+) (EQUINIX_API_CLIENTSECRET=\S+)`)
	m := out.await(5*time.Second, exportRe)
	if m == nil {
		t.Fatalf("the sandbox printed no endpoint:\n%s", out)
	}
	vars := map[string]string{}
	for _, kv := range m[1:] {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return vars, out.String
}

// TestSandboxCommand serves the sandbox as a user would and drives it with
// the environment it prints, through the real client code path.
func TestSandboxCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	acct := filepath.Join(dir, "account.yaml")
	if err := os.WriteFile(acct, []byte(`orderingUser: own.orderer
ibxs:
  - code: FR5
    accounts: [{number: "555", name: Own, allowOrder: true}]
    cages: [{id: "FR5:02:000777", accountNumber: "555", cabinets: ["FR5:02:000777:0001"]}]
users:
  - {username: own.orderer, status: ACTIVE}
  - {username: own.locked1, status: LOCKED}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	vars, _ := serveSandbox(t, "--listen", "127.0.0.1:0", "--client-id", "my-client", "--client-secret", "my-secret-123",
		"--account", acct, "--now", "2027-01-04T09:00:00Z", "--token-ttl", "10m")
	if vars["EQUINIX_API_CLIENTID"] != "my-client" || vars["EQUINIX_API_CLIENTSECRET"] != "my-secret-123" ||
		!strings.HasPrefix(vars["EQUINIX_API_ENDPOINT"], "http://127.0.0.1:") {
		t.Fatalf("printed %v", vars)
	}
	cfg, err := equinix.ConfigFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	c, err := equinix.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	locs, err := c.Locations(ctx)
	if err != nil || len(locs) != 1 || locs[0].IBX != "FR5" {
		t.Fatalf("the --account file's locations: %+v, %v", locs, err)
	}
	// --now: a visit on 2027-01-05 is in the sandbox's future.
	start := time.Date(2027, 1, 5, 8, 0, 0, 0, time.UTC)
	req := &equinix.WorkVisitRequest{Description: "Rehearsal against our own account", CustomerReferenceID: "REHEARSAL-1",
		Details: equinix.WorkVisitDetails{Cages: []equinix.CageRef{{ID: "FR5:02:000777"}}, VisitStartDateTime: start,
			VisitEndDateTime: start.Add(4 * time.Hour), Visitors: []equinix.Visitor{{RegisteredUsers: []string{"own.locked1"}}}}}
	if _, err := c.CreateWorkVisit(ctx, req); !strings.Contains(err.Error(), "EQX-161-403") {
		t.Fatalf("a LOCKED visitor of the account file: %v, want EQX-161-403", err)
	}
	req.Details.Visitors = []equinix.Visitor{{FirstName: "Anna", LastName: "de Vries", CompanyName: "Voltcare BV"}}
	id, err := c.CreateWorkVisit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	res, err := http.Get(vars["EQUINIX_API_ENDPOINT"] + "/sandbox/orders")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var dump struct {
		Orders []struct {
			ID, CustomerReferenceID string
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&dump); err != nil {
		t.Fatal(err)
	}
	if len(dump.Orders) != 1 || dump.Orders[0].ID != id || dump.Orders[0].CustomerReferenceID != "REHEARSAL-1" {
		t.Fatalf("GET /sandbox/orders = %+v, want %s", dump, id)
	}
}

// TestSandboxCommandFlags checks the flags a user can get wrong.
func TestSandboxCommandFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--now", "tomorrow"}, "RFC 3339"},
		{[]string{"--faults", "429,boom"}, `unknown sandbox fault "boom"`},
		{[]string{"--fault-rate", "2"}, "FaultRate"},
		{[]string{"--token-ttl", "1s"}, "shorter than 2s"},
		{[]string{"--account", "/nonexistent/account.yaml"}, "account"},
		{[]string{"--listen", "256.0.0.1:1"}, "listen"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard, now: time.Now}
			cmd := newSandboxCmd(e)
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.ExecuteContext(t.Context())
			var ce *cliError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &ce) || ce.code != exitUsage {
				t.Fatalf("err = %v, want a usage error mentioning %q", err, tt.want)
			}
		})
	}
}
