package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// AmendmentReport is what an amendment of a run's orders (reschedule,
// amend) did, order by order: written to the run's report folder as
// amendment-N.json.
type AmendmentReport struct {
	RunID     string                 `json:"run_id"`
	Amendment int                    `json:"amendment"`
	Change    string                 `json:"change"`
	State     string                 `json:"state"`
	Orders    map[string]int         `json:"orders"`
	List      []AmendmentReportOrder `json:"order_list"`
}

// AmendmentReportOrder is one order of an amendment: its window before and
// after, in its IBX's time zone.
type AmendmentReportOrder struct {
	Key        string `json:"key"`
	Reference  string `json:"customer_reference"`
	OrderID    string `json:"order_id,omitempty"`
	State      string `json:"state"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Attempts   int    `json:"attempts,omitempty"`
	Note       string `json:"note,omitempty"`
	ErrorCode  string `json:"error_code,omitempty"`
	Error      string `json:"error,omitempty"`
	ErrorHint  string `json:"error_hint,omitempty"`
	OpenCab    bool   `json:"open_cabinet"`
	NotifyList string `json:"notify,omitempty"`
}

// NewAmendmentReport reports amendment a of a run: aos are its orders, and
// orders the run's (for their IBXs' time zones).
func NewAmendmentReport(runID string, a runstore.Amendment, aos []runstore.AmendOrder, orders []runstore.Order) *AmendmentReport {
	ibx := map[string]string{}
	for _, o := range orders {
		ibx[o.Key] = o.IBX
	}
	rep := &AmendmentReport{RunID: runID, Amendment: a.N, Change: a.Request.String(), State: string(a.State),
		Orders: map[string]int{}, List: []AmendmentReportOrder{}}
	for k, v := range a.Orders {
		if v > 0 {
			rep.Orders[string(k)] = v
		}
	}
	for _, ao := range aos {
		loc := time.UTC
		if zone, ok := roster.MetroZone(ibx[ao.Key]); ok {
			if l, err := time.LoadLocation(zone); err == nil {
				loc = l
			}
		}
		window := func(v runstore.Visit) string {
			if v.Start.IsZero() {
				return ""
			}
			return v.Start.In(loc).Format("2006-01-02 15:04 MST") + " → " + v.End.In(loc).Format("2006-01-02 15:04 MST")
		}
		ro := AmendmentReportOrder{Key: ao.Key, Reference: ao.Reference, OrderID: ao.OrderID, State: string(ao.State),
			Before: window(ao.Before), After: window(ao.After), Attempts: ao.Attempts, Note: ao.Note,
			OpenCab: ao.After.OpenCabinet, NotifyList: strings.Join(ao.After.Notify, ", ")}
		if ao.Error != nil && ao.State != runstore.AmendApplied {
			ro.ErrorCode, ro.Error, ro.ErrorHint = ao.Error.Code, ao.Error.Message, ao.Error.Hint
		}
		rep.List = append(rep.List, ro)
	}
	return rep
}

// AmendmentReportName is the file name of amendment n's report.
func AmendmentReportName(n int) string { return fmt.Sprintf("amendment-%d.json", n) }

// Write writes the report into dir (created if need be) and returns its
// path.
func (r *AmendmentReport) Write(dir string) (string, error) {
	return WriteJSONFile(dir, AmendmentReportName(r.Amendment), r)
}

// WriteJSONFile writes v as indented JSON to the file name in dir (created
// if need be) and returns its path.
func WriteJSONFile(dir, name string, v any) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("report folder: %w", err)
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	err = enc.Encode(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}

// Failed counts the orders the amendment skipped or failed to change.
func (r *AmendmentReport) Failed() int {
	return r.Orders[string(runstore.AmendSkipped)] + r.Orders[string(runstore.AmendFailed)]
}
