package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestSubmitToAPermissiveSandboxProcess starts `wvbatch sandbox
// --permissive` as a process of its own and submits to it, pre-flight
// included, a workbook naming an IBX, cages, cabinets, accounts and a user
// its account does not list, two of the cabinets typed as numbers: every
// row passes the pre-flight and is ordered, a number cabinet as its
// four-digit cabinet (101 is 0101).
func TestSubmitToAPermissiveSandboxProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := startSandboxProcess(t, dir, "--permissive")

	roster := filepath.Join(dir, "elsewhere.xlsx")
	f := excelize.NewFile()
	rows := [][]any{
		{"Cage", "Cabinet", "Account Number", "Visit Start", "Visit End", "First Name", "Last Name", "Company", "Username"},
		{"SG3:02:00X123", "0417", "700001", "2027-01-11 08:00", "2027-01-11 18:00", "Anna", "Tan", "Acme", ""},
		{"SG3:02:00X123", "", "700001", "2027-01-11 08:00", "2027-01-11 18:00", "", "", "", "some.one.new"},
		{"AM1:01:000111", "0199", "", "2027-01-11 08:00", "2027-01-11 18:00", "Bram", "Jansen", "Acme", ""},
		{"AM1:09:000001", 101, "300001", "2027-01-12 08:00", "2027-01-12 18:00", "Carla", "Smit", "Acme", ""},
		{"TY2:01:000001", 7, "", "2027-01-11 08:00", "2027-01-11 18:00", "Ken", "Sato", "Acme", ""},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(roster); err != nil {
		t.Fatal(err)
	}

	c := newCLI(t, map[string]string{"EQUINIX_API_ENDPOINT": url,
		"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret})
	code, out, errOut := c.run("submit", roster, "--yes", "--now", "2027-01-04T09:00:00Z")
	if code != exitOK || !strings.Contains(out, "5 rows, 5 valid, 0 invalid") || !strings.Contains(out, "5 of 5 ordered") {
		t.Fatalf("submit to the permissive sandbox: exit %d; want every row ordered\n%s%s", code, out, errOut)
	}

	resp, err := http.Get(url + "/sandbox/orders")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var held struct {
		Orders []sandbox.Order `json:"orders"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&held); err != nil {
		t.Fatal(err)
	}
	var cabinets []string
	refs := map[string]int{}
	for _, o := range held.Orders {
		refs[o.CustomerReferenceID]++
		for _, cg := range o.Cages {
			cabinets = append(cabinets, cg.Cabinets...)
		}
	}
	slices.Sort(cabinets)
	want := []string{"AM1:01:000111:0199", "AM1:09:000001:0101", "SG3:02:00X123:0417", "TY2:01:000001:0007"}
	if !slices.Equal(cabinets, want) {
		t.Errorf("cabinets ordered: %q; want %q", cabinets, want)
	}
	if len(refs) != 5 {
		t.Errorf("the sandbox holds %d references; want the 5 orders", len(refs))
	}
	for ref, n := range refs {
		if n != 1 {
			t.Errorf("reference %s ordered %d times", ref, n)
		}
	}
}

// startSandboxProcess runs `wvbatch sandbox --listen 127.0.0.1:0 args…` as
// a child process, killed when the test ends, and returns its URL.
func startSandboxProcess(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"sandbox", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = childEnv(dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "sandbox serving on "); ok {
				found <- strings.Fields(url)[0]
			}
		}
	}()
	select {
	case url := <-found:
		return url
	case <-time.After(30 * time.Second):
		t.Fatal("the sandbox process did not say where it serves within 30s")
	}
	return ""
}
