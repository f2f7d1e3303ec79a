package runstore

import (
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ReportRecord is what became of the latest writing of a run's report
// folder. It does not change the run's UpdatedAt: writing a report is not a
// change to the run.
type ReportRecord struct {
	At  time.Time `json:"at"`
	Dir string    `json:"dir"`
	// Files are the files written, Problems the files that could not be
	// (one line each); a report with problems is written again next time.
	Files    []string `json:"files,omitempty"`
	Problems []string `json:"problems,omitempty"`
	// Skipped says why the annotated workbook was not made, if it was not.
	Skipped string `json:"skipped,omitempty"`
	// Of identifies the run's content the report shows (the caller's
	// fingerprint), to know when it is out of date. Stored, when the report
	// was made with more than the store holds (the roster at hand), is the
	// fingerprint of the run made from the store alone: the report is up to
	// date with either.
	Of     string `json:"of,omitempty"`
	Stored string `json:"stored,omitempty"`
}

// RecordReport records the latest writing of a run's report (rec.At
// defaults to now).
func (s *Store) RecordReport(runID string, rec ReportRecord) error {
	return s.update(func(tx *bolt.Tx) error {
		run, err := getRun(tx, runID)
		if err != nil {
			return refuse(err)
		}
		if rec.At.IsZero() {
			rec.At = s.opt.Now().UTC()
		}
		rec.Files, rec.Problems = slices.Clone(rec.Files), slices.Clone(rec.Problems)
		run.Report = &rec
		return putRun(tx, run)
	})
}
