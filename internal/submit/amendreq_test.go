package submit

import (
	"errors"
	"testing"
	"time"
)

func TestAmendRequest(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	w.in.Import.Order.ReportEmails = nil
	out := w.place(t)
	runID := out.Run.ID
	if loc, err := RunZone(w.p.Store, runID); err != nil || loc.String() != "Europe/Amsterdam" {
		t.Errorf("RunZone = %v, %v; want Europe/Amsterdam (AM1)", loc, err)
	}

	for _, c := range []struct {
		name string
		ask  AmendAsk
		hint string
	}{
		{"shift and window", AmendAsk{Shift: time.Hour, Start: "2027-01-12 08:00"}, "e.g. --shift 24h, or --start '2027-01-12 08:00' --end '2027-01-12 18:00'"},
		{"start alone", AmendAsk{Start: "2027-01-12 08:00"}, "give both, e.g. --start '2027-01-12 08:00' --end '2027-01-12 18:00'"},
		{"move nowhere", AmendAsk{Move: true}, "--shift 24h, or --start TIME --end TIME"},
		{"a date alone", AmendAsk{Start: "2027-01-12", End: "2027-01-13 08:00"}, "write it like 2027-01-12 08:00 (the IBX's local time) or 2027-01-12T07:00:00Z"},
		{"open cabinet", AmendAsk{OpenCabinet: "maybe"}, "e.g. --open-cabinet true"},
		{"notify", AmendAsk{Notify: []string{"no spaces allowed"}}, "give a registered Equinix portal username, e.g. --notify-contact noc.amsterdam"},
	} {
		var ae *AskError
		if _, err := w.p.AmendRequest(runID, c.ask); !errors.As(err, &ae) || ae.Hint != c.hint {
			t.Errorf("%s: %v, want an AskError with the hint %q", c.name, err, c.hint)
		}
	}

	if req, err := w.p.AmendRequest(runID, AmendAsk{}); req != nil || err != nil {
		t.Errorf("nothing asked: %v, %v; want nil", req, err)
	}
	req, err := w.p.AmendRequest(runID, AmendAsk{Start: "2027-01-12 08:00", End: "2027-01-12T18:00:00Z", OpenCabinet: "false", Notify: []string{" noc.amsterdam "}})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 1, 12, 7, 0, 0, 0, time.UTC); !req.Start.Equal(want) || !req.End.Equal(want.Add(11*time.Hour)) {
		t.Errorf("window %v → %v; want 08:00 Amsterdam and 18:00 UTC", req.Start, req.End)
	}
	if req.OpenCabinet == nil || *req.OpenCabinet || len(req.Notify) != 1 || req.Notify[0] != "noc.amsterdam" {
		t.Errorf("request %+v", req)
	}
	if req, err := w.p.AmendRequest(runID, AmendAsk{Move: true, Shift: -30 * time.Minute}); err != nil || req.Shift != -30*time.Minute {
		t.Errorf("shift: %+v, %v", req, err)
	}
}
