package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestSubmitReplace submits a roster edited after it was ordered (one
// visitor taken off, one added, in one of its two cages): without --replace
// the orders to replace are shown; with it, the changed cage's visitors are
// ordered again and the earlier order is cancelled with a reason naming the
// new one; the other cage's order is left alone. Submitting it again changes
// nothing.
func TestSubmitReplace(t *testing.T) {
	t.Parallel()
	w := newAmendWorld(t)
	var old sandbox.Order
	for _, o := range w.srv.Orders() {
		if o.Cages[0].ID == "AM1:01:000111" {
			old = o
		}
	}
	edited := strings.Replace(amendRoster, "Bram,de Boer", "Dirk,Smit", 1)
	file := filepath.Join(w.dir, "edited.csv")
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out := w.run("submit", file, "--yes", "--now", crashNow, "--dry-run")
	if code != exitOK || !strings.Contains(out, old.ID) || !strings.Contains(out, "would be cancelled and ordered again") ||
		!strings.Contains(out, "adds 1, takes off 1") {
		t.Errorf("dry run: exit %d; want the order to replace shown\n%s", code, out)
	}
	if n := len(w.srv.Orders()); n != 2 {
		t.Fatalf("the sandbox holds %d orders after a dry run; want 2", n)
	}

	code, out = w.run("submit", file, "--yes", "--now", crashNow, "--replace")
	if code != exitOK {
		t.Fatalf("submit --replace: exit %d\n%s", code, out)
	}
	var replaced, other sandbox.Order
	var news []sandbox.Order
	for _, o := range w.srv.Orders() {
		switch {
		case o.ID == old.ID:
			replaced = o
		case o.Cages[0].ID == "AM1:01:000112":
			other = o
		default:
			news = append(news, o)
		}
	}
	if len(news) != 1 || news[0].Visitors != 2 || news[0].Status != sandbox.StatusReceived {
		t.Fatalf("new orders %+v; want one of 2 visitors\n%s", news, out)
	}
	if replaced.Status != sandbox.StatusCancelled || !strings.Contains(replaced.CancelReason, "Replaced by work visit order "+news[0].ID) {
		t.Errorf("earlier order: %s, reason %q; want cancelled naming %s", replaced.Status, replaced.CancelReason, news[0].ID)
	}
	if other.Status != sandbox.StatusReceived {
		t.Errorf("the unchanged cage's order is %s; want it left alone", other.Status)
	}
	if news[0].CustomerReferenceID == old.CustomerReferenceID || !strings.Contains(news[0].CustomerReferenceID, "-R") {
		t.Errorf("new order's reference %q; want one of its own", news[0].CustomerReferenceID)
	}

	code, out = w.run("submit", file, "--yes", "--now", crashNow, "--replace")
	if code != exitOK || !strings.Contains(out, "carrying on") || !strings.Contains(out, "already cancelled") {
		t.Errorf("submit --replace again: exit %d\n%s", code, out)
	}
	if n := len(w.srv.Orders()); n != 3 {
		t.Errorf("the sandbox holds %d orders after --replace again; want 3", n)
	}
}
