package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/runstore"
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
	if len(amends) != 1 || amends[0].State != runstore.AmendDone {
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

// TestMessagesForAnOrderPlacedElsewhere sends an Update and a Cancel for an
// order made directly at the sandbox, twice: the first time the order is
// recorded as a run of its own, the Update applied as its amendment and the
// Cancel recorded; the second time nothing is sent again.
func TestMessagesForAnOrderPlacedElsewhere(t *testing.T) {
	t.Parallel()
	w := newSandboxWorld(t)
	c, err := equinix.New(equinix.Config{Endpoint: w.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)
	id, err := c.CreateWorkVisit(t.Context(), &equinix.WorkVisitRequest{Description: "Ordered in the portal, not by wvbatch",
		CustomerReferenceID: "PORTAL-1", Details: equinix.WorkVisitDetails{Cages: []equinix.CageRef{{ID: "AM1:01:000111"}},
			VisitStartDateTime: start, VisitEndDateTime: start.Add(10 * time.Hour),
			Visitors: []equinix.Visitor{{FirstName: "Anna", LastName: "Jansen", CompanyName: "Acme"}}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(w.dir, "messages")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	update := `{"Task":{"Id":"5b0f3c1e-2a4d-4c6b-9e8f-1a2b3c4d5e6f","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update",
	  "Resource":"WorkVisit","Version":"1.0","Body":{"ServicerId":"` + id + `","Description":"Moved by a day, cabinet to be opened",
	  "ServiceDetails":{"StartDateTime":"2027-01-12T08:00:00Z","EndDateTime":"2027-01-12T18:00:00Z","OpenCabinet":true}}}}`
	cancel := `{"Task":{"Id":"6c1a4d2f-3b5e-4d7c-8f9a-2b3c4d5e6f70","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update",
	  "Resource":"WorkVisit","Version":"1.0","Body":{"State":"Cancelled","ServicerId":"` + id + `","Description":"Visit called off"}}}`
	for name, body := range map[string]string{"1-update.json": update, "2-cancel.json": cancel} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	order := func() sandbox.Order {
		for _, o := range w.srv.Orders() {
			if o.ID == id {
				return o
			}
		}
		t.Fatalf("the sandbox lost order %s", id)
		return sandbox.Order{}
	}
	stored := func() (string, runstore.Order, []runstore.Amendment) {
		t.Helper()
		st, err := (&storeFlag{path: w.store()}).open(&env{getenv: func(string) string { return "" }, now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		runs, _ := st.Runs()
		if len(runs) != 1 {
			t.Fatalf("the store holds %d runs; want the one of the order placed elsewhere", len(runs))
		}
		orders, _ := st.Orders(runs[0].ID)
		amends, _ := st.Amendments(runs[0].ID)
		if len(orders) != 1 || orders[0].OrderID != id {
			t.Fatalf("run %s holds %+v; want order %s", runs[0].ID, orders, id)
		}
		return runs[0].ID, orders[0], amends
	}

	for i := range 2 {
		code, out := w.run("submit", dir, "--yes", "--now", crashNow)
		if code != exitOK {
			t.Fatalf("submit %d: exit %d\n%s", i+1, code, out)
		}
		o := order()
		if len(o.Patches) != 1 || !o.OpenCabinet || !o.VisitStart.Equal(start.Add(24*time.Hour)) {
			t.Errorf("submit %d: the order has %d updates, open cabinet %v, start %s; want the Update applied once",
				i+1, len(o.Patches), o.OpenCabinet, o.VisitStart)
		}
		if o.Status != sandbox.StatusCancelled || o.CancelReason != "Visit called off" {
			t.Errorf("submit %d: the order is %s (%q); want cancelled with the message's reason", i+1, o.Status, o.CancelReason)
		}
		runID, so, amends := stored()
		if so.State != runstore.Cancelled || !so.Start.Equal(o.VisitStart) {
			t.Errorf("submit %d: the store says the order is %s from %s; want cancelled from %s", i+1, so.State, so.Start, o.VisitStart)
		}
		if len(amends) != 1 || amends[0].State != runstore.AmendDone || amends[0].Orders[runstore.AmendApplied] != 1 {
			t.Errorf("submit %d: amendments %+v; want the Update as one, applied", i+1, amends)
		}
		if i == 1 && (!strings.Contains(out, "already-cancelled") || strings.Contains(out, "recorded in")) {
			t.Errorf("second submit: want nothing recorded anew and the Cancel found done\n%s", out)
		}
		var status bytes.Buffer
		code = run(context.Background(), []string{"status", runID, "--store", w.store()}, strings.NewReader(""), &status, &status,
			func(string) string { return "" })
		if out := status.String(); code != exitOK || !strings.Contains(out, "window 2027-01-12T08:00:00Z → 2027-01-12T18:00:00Z; open cabinet true; for 1 of the run's orders: 1 applied") {
			t.Errorf("submit %d: status of run %s: exit %d, want the Update listed as its amendment\n%s", i+1, runID, code, out)
		}
	}
}
