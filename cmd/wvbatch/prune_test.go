package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// personalData returns the names, usernames, companies, emails and phones
// of a CSV roster, lower-cased, and phones also as digits only.
func personalData(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]bool{"First Name": true, "Last Name": true, "Company": true, "Username": true, "Email": true, "Mobile Phone": true}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if len(s) >= 4 && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, rec := range recs[1:] {
		for i, h := range recs[0] {
			if !cols[h] || i >= len(rec) {
				continue
			}
			add(rec[i])
			if h == "Mobile Phone" {
				add(regexp.MustCompile(`\D`).ReplaceAllString(rec[i], ""))
			}
		}
	}
	return out
}

// scanFor returns "file: value" for every value found in the files under
// each of paths (lower-cased bytes).
func scanFor(t *testing.T, values []string, paths ...string) []string {
	t.Helper()
	var found []string
	for _, root := range paths {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.ToLower(b)
			for _, v := range values {
				if bytes.Contains(b, []byte(v)) {
					found = append(found, filepath.Base(p)+": "+v)
				}
			}
			return nil
		})
	}
	return found
}

// TestPrune submits two rosters (one with invalid rows), prunes the runs
// and scans the store file, rosters/ and reports/ byte by byte for the
// rosters' names, companies, usernames, emails and phones: none is left.
// status still lists the orders, the store checks sound, and submitting the
// same rosters again, as they are or changed, orders nothing twice.
func TestPrune(t *testing.T) {
	t.Parallel()
	c, srv, _ := sandboxCLI(t, 0, 1)
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	rosters := []string{"../../samples/contractors.csv", "../../samples/contractors-with-errors.csv"}
	var values []string
	var runIDs []string
	for _, r := range rosters {
		values = append(values, personalData(t, r)...)
		code, out, _ := c.run("submit", r, "--yes", "--now", demoNow, "--store", store, "--notify", "ops-lead@example.com")
		if code != exitOK && code != exitRows {
			t.Fatalf("submit %s: exit %d", r, code)
		}
		m := runIDRe.FindStringSubmatch(out)
		if m == nil {
			t.Fatal("no run id")
		}
		runIDs = append(runIDs, m[1])
	}
	values = append(values, "ops-lead@example.com")
	placed := len(sandboxByRef(t, srv))
	if placed == 0 {
		t.Fatal("nothing was ordered")
	}
	// A web upload of the roster, from before the cut-off, and one from now.
	for i, r := range rosters[:1] {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		up := filepath.Join(dir, "uploads", fmt.Sprintf("u%d", i))
		if err := os.MkdirAll(up, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(up, "original.csv"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		for _, p := range []string{filepath.Join(up, "original.csv"), up} {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	scanned := []string{store, filepath.Join(dir, "rosters"), filepath.Join(dir, "reports"), filepath.Join(dir, "uploads")}
	if found := scanFor(t, values, scanned...); len(found) == 0 {
		t.Fatal("the scan finds nothing before the prune: it cannot tell")
	}

	// Nothing ended 90 days ago; a dry run changes nothing.
	code, out, _ := c.run("prune", "--older-than", "90d", "--store", store)
	if code != exitOK || !strings.Contains(out, "pruned 0 runs") {
		t.Fatalf("prune --older-than 90d: exit %d\n%s", code, out)
	}
	time.Sleep(20 * time.Millisecond) // the runs' age on the real clock is what --older-than reads
	code, out, _ = c.run("prune", "--older-than", "10ms", "--dry-run", "--store", store)
	if code != exitOK || !strings.Contains(out, "would prune 2 runs") || !strings.Contains(out, "would prune run "+runIDs[0]) {
		t.Fatalf("prune --dry-run: exit %d\n%s", code, out)
	}
	if found := scanFor(t, values, scanned...); len(found) == 0 {
		t.Fatal("the dry run removed data")
	}

	code, out, _ = c.run("prune", "--older-than", "10ms", "--store", store)
	if code != exitOK || !strings.Contains(out, "pruned 2 runs") || !strings.Contains(out, "rosters") || !strings.Contains(out, "reports") || !strings.Contains(out, "uploads") {
		t.Fatalf("prune: exit %d\n%s", code, out)
	}
	if found := scanFor(t, values, scanned...); len(found) > 0 {
		t.Errorf("after the prune, personal data is still there: %q", found)
	}
	if code, out, _ := c.run("store", "check", "--store", store); code != exitOK {
		t.Errorf("store check after the prune: exit %d\n%s", code, out)
	}
	// status lists the orders, without names.
	code, out, errOut := c.run("status", runIDs[0], "--store", store)
	if code != exitOK && code != exitRows {
		t.Fatalf("status: exit %d", code)
	}
	if !regexp.MustCompile(`1-\d+`).MatchString(out) {
		t.Errorf("status lists no order ids:\n%s", out)
	}
	for _, v := range values {
		if strings.Contains(strings.ToLower(out+errOut), v) {
			t.Errorf("status shows %q", v)
		}
	}
	// A second prune finds nothing more.
	if code, out, _ := c.run("prune", "--older-than", "10ms", "--store", store); code != exitOK || !strings.Contains(out, "pruned 0 runs") {
		t.Errorf("second prune: exit %d\n%s", code, out)
	}

	// The same rosters again, then changed (a new run): nothing twice.
	for i, r := range rosters {
		code, out, _ := c.run("submit", r, "--yes", "--now", demoNow, "--store", store)
		if code != exitOK && code != exitRows {
			t.Fatalf("submit %s again: exit %d", r, code)
		}
		if !strings.Contains(out, runIDs[i]) {
			t.Errorf("submitting %s again does not name run %s:\n%s", r, runIDs[i], out)
		}
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		changed := filepath.Join(t.TempDir(), filepath.Base(r))
		if err := os.WriteFile(changed, append(b, "\n\n"...), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, _ = c.run("submit", changed, "--yes", "--now", demoNow, "--store", store)
		if code != exitOK && code != exitRows {
			t.Fatalf("submit a changed %s: exit %d", r, code)
		}
		if !strings.Contains(out, "already ordered by an earlier run") || !strings.Contains(out, "plan: 0 orders") {
			t.Errorf("the changed roster's visitors are not found already ordered:\n%s", out)
		}
		if strings.Contains(out, "--replace") {
			t.Errorf("the pruned orders' visitors do not match the same roster's:\n%s", out)
		}
	}
	if got := len(sandboxByRef(t, srv)); got != placed {
		t.Errorf("after the prune and the resubmissions the sandbox holds %d orders, want %d", got, placed)
	}
}

// TestRetentionDaemon: with retention set in the config file, the daemon
// prunes the runs that ended before it when it starts.
func TestRetentionDaemon(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	roster, err := filepath.Abs("../../samples/contractors.csv")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := c.run("submit", roster, "--sandbox", "--yes", "--now", demoNow, "--store", store); code != exitOK {
		t.Fatalf("submit: exit %d", code)
	}
	jobs := filepath.Join(dir, "jobs.yaml")
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(jobs, []byte("jobs:\n  - name: yearly\n    schedule: \"0 0 1 1 *\"\n    roster: "+roster+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("retention: 1ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the run's age on the real clock is what retention reads
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"schedule", "run", "--config", jobs, "--api-config", cfg, "--store", store, "--sandbox", "--log-level", "info", "--log-format", "json"},
			strings.NewReader(""), &out, &errb, func(k string) string { return c.env[k] })
	}()
	errb.await(20*time.Second, regexp.MustCompile(`pruned 1 runs`))
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("daemon: exit %d", code)
	}
	if !strings.Contains(errb.String(), "pruned 1 runs") {
		t.Fatalf("the daemon did not prune:\n%s", errb.String())
	}
	if found := scanFor(t, personalData(t, roster), store, filepath.Join(dir, "rosters"), filepath.Join(dir, "reports")); len(found) > 0 {
		t.Errorf("after the daemon's prune, personal data is still there: %q", found)
	}
}
