package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestSubmitMessagesAgainstTheSandbox sends the sample messages to a served
// sandbox, then sends them again: the orders of the Create messages are not
// placed twice, the Update changes nothing more and the Cancel finds its
// order already cancelled. An Update of a closed order is refused with
// Equinix's EQ-2016007 and named by its message.
func TestSubmitMessagesAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	w := newSandboxWorld(t)
	samples, err := filepath.Abs("../../samples/emg")
	if err != nil {
		t.Fatal(err)
	}
	code, out := w.run("submit", samples, "--yes", "--now", crashNow)
	if code != exitOK {
		t.Fatalf("first submit: exit %d\n%s", code, out)
	}
	orders := w.srv.Orders()
	if len(orders) != 2 {
		t.Fatalf("the sandbox holds %d orders; want 2\n%s", len(orders), out)
	}
	byRef := map[string]sandbox.Order{}
	for _, o := range orders {
		byRef[o.CustomerReferenceID] = o
	}
	am1, dc2 := byRef["ACME-WV-2027-0112"], byRef["ACME-WV-2027-0114"]
	if len(am1.Patches) != 1 || am1.OpenCabinet || am1.VisitStart.Format("2006-01-02T15:04") != "2027-01-13T07:00" {
		t.Errorf("updated order: %d updates, open cabinet %v, start %s; want the Update applied", len(am1.Patches), am1.OpenCabinet, am1.VisitStart)
	}
	if len(am1.Cages) != 2 || am1.Visitors != 3 {
		t.Errorf("created order: cages %v, %d visitors; want both locations and 3 visitors", am1.Cages, am1.Visitors)
	}
	if dc2.Status != sandbox.StatusCancelled || dc2.CancelReason != "Generator test postponed" {
		t.Errorf("cancelled order: %s, reason %q", dc2.Status, dc2.CancelReason)
	}

	// The Update went through the run's store as an amendment: the store
	// holds the new window.
	st, err := (&storeFlag{path: w.store()}).open(&env{getenv: func(string) string { return "" }, now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := st.Runs()
	stored, _ := st.Orders(runs[0].ID)
	amends, _ := st.Amendments(runs[0].ID)
	st.Close()
	for _, o := range stored {
		if o.OrderID == am1.ID && !o.Start.Equal(am1.VisitStart) {
			t.Errorf("the store says order %s starts %s; the sandbox %s", o.OrderID, o.Start, am1.VisitStart)
		}
	}
	if len(amends) != 1 || amends[0].State != queue.AmendDone {
		t.Errorf("amendments %+v; want the Update recorded as one, done", amends)
	}

	code, out = w.run("submit", samples, "--yes", "--now", crashNow)
	if code != exitOK || !strings.Contains(out, "resuming it; nothing is ordered twice") || !strings.Contains(out, "already-cancelled") {
		t.Errorf("second submit: exit %d\n%s", code, out)
	}
	if n := len(w.srv.Orders()); n != 2 {
		t.Errorf("the sandbox holds %d orders after the messages were sent again; want 2", n)
	}

	// An Update of a closed order, by ServicerId.
	if err := w.srv.SetOrderStatus(am1.ID, sandbox.StatusClosed); err != nil {
		t.Fatal(err)
	}
	msg := filepath.Join(w.dir, "update-closed.json")
	body := `{"Task":{"Id":"9d1c0c52-7f0e-4b7b-8d8e-3f6a1b2c3d4e","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update",
	  "Resource":"WorkVisit","Version":"1.0","Body":{"ServicerId":"` + am1.ID + `","Description":"Open the cabinet after all",
	  "ServiceDetails":{"OpenCabinet":true}}}}`
	if err := os.WriteFile(msg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = w.run("submit", msg, "--yes", "--now", crashNow)
	if code != exitRows || !strings.Contains(out, "9d1c0c52-7f0e-4b7b-8d8e-3f6a1b2c3d4e Update failed") || !strings.Contains(out, "EQ-2016007") {
		t.Errorf("update of a closed order: exit %d, want %d naming the message and EQ-2016007\n%s", code, exitRows, out)
	}
}
