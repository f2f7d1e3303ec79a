package submit

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// savedSummary is a run's summary as the store saves it beside the run
// (runstore.SaveSummary), in gob: showing a finished run again reads it
// instead of decoding every order and row. The store hands it out only while the
// run's orders and rows are byte for byte those it was made from.
type savedSummary struct {
	// Build is the build of wvbatch that made it (buildID): another one
	// may make summaries differently, and makes it again.
	Build string `json:"build"`
	// Head is the fingerprint of what the summary shows of the run's own
	// record (its state, counts, endpoint…), and Of that of the summary.
	Head string `json:"head"`
	Of   string `json:"of"`
	// Summary is made without the roster's import: its errors are those the
	// store holds. Its update and mail times are the run's when shown.
	Summary *report.RunSummary `json:"summary"`
	// Invalid are the rows whose outcome is invalid: with the roster's
	// import at hand, their errors are the import's (see report.ImportErrors).
	Invalid []int `json:"invalid"`
}

// buildID identifies this build of wvbatch: its build information and its
// executable file.
var buildID = sync.OnceValue(func() string {
	h := sha256.New()
	if bi, ok := debug.ReadBuildInfo(); ok {
		h.Write([]byte(bi.String()))
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "\n%s %d %d", exe, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
})

// headOf is the fingerprint of what a run's summary shows of its record.
func headOf(run runstore.Run) string {
	return report.Fingerprint(report.NewRunSummary(run, nil, nil, nil))
}

// importErrors reports whether a summary made with imp takes its row
// errors from the import rather than from the store.
func importErrors(imp *importer.Result) bool { return imp != nil && len(imp.Errors) > 0 }

// storedSummary returns s, made with imp (of is its fingerprint), as made
// from the store alone, with its fingerprint: with the row errors the store
// holds rather than the import's.
func storedSummary(s *report.RunSummary, of string, c *runstore.Contents, imp *importer.Result) (*report.RunSummary, string) {
	if !importErrors(imp) {
		return s, of
	}
	cp := *s
	cp.Errors = report.NewRunSummary(c.Run, nil, c.Rows, nil).Errors
	return &cp, report.Fingerprint(&cp)
}

// saveSummary saves s, the summary made from the store alone of the run as
// c read it (of is its fingerprint), for saved to find while the run's
// orders and rows stay as they are. A summary that cannot be saved only
// makes the run slower to show again: that is logged, not returned.
func (p *Pipeline) saveSummary(c *runstore.Contents, s *report.RunSummary, of string) {
	sum := *s
	sum.UpdatedAt, sum.Mail = time.Time{}, nil
	var invalid []int
	for _, r := range c.Rows {
		if r.Status == runstore.RowInvalid {
			invalid = append(invalid, r.Row)
		}
	}
	b, err := encodeSaved(savedSummary{Build: buildID(), Head: headOf(c.Run), Of: of, Summary: &sum, Invalid: invalid})
	if err == nil {
		err = p.Store.SaveSummary(c.Run.ID, c.Digest, b)
	}
	switch {
	case errors.Is(err, runstore.ErrChanged): // changed while shown: made again next time
	case err != nil:
		p.Logger.Warn().Err(err).Str("run", c.Run.ID).Msg("save the run's summary")
	}
}

// encodeSaved encodes a saved summary as gob, which decodes several times
// faster than JSON, and checks that it decodes to the very summary it was
// made of.
func encodeSaved(rec savedSummary) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&rec); err != nil {
		return nil, err
	}
	back, err := decodeSaved(b.Bytes())
	if err != nil {
		return nil, err
	}
	if !reflect.DeepEqual(back, rec) {
		return nil, errors.New("the summary does not decode to what it shows")
	}
	return b.Bytes(), nil
}

// decodeSaved decodes a saved summary. Gob keeps no empty list or map,
// which the summary's JSON shows as [] or {}: they are made again.
func decodeSaved(b []byte) (savedSummary, error) {
	var rec savedSummary
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&rec); err != nil {
		return savedSummary{}, err
	}
	s := rec.Summary
	if s == nil {
		return savedSummary{}, errors.New("a saved summary without its summary")
	}
	if s.Orders == nil {
		s.Orders = map[string]int{}
	}
	if s.Rows == nil {
		s.Rows = map[string]int{}
	}
	if s.OrderList == nil {
		s.OrderList = []report.RunOrder{}
	}
	if s.Errors == nil {
		s.Errors = []roster.RowError{}
	}
	return rec, nil
}

// saved returns a run's outcome made from its saved summary, with the
// summary's fingerprint; nil when there is none this build made from the
// run's orders and rows as they are and its record as it is. imp, when not
// nil, is the run's roster as imported in this process, whose row errors
// the summary then shows.
func (p *Pipeline) saved(runID string, imp *importer.Result) (*Outcome, string, error) {
	run, b, err := p.Store.SavedSummary(runID)
	if err != nil || b == nil {
		return nil, "", err
	}
	rec, err := decodeSaved(b)
	if err != nil || rec.Build != buildID() || rec.Head != headOf(run) {
		return nil, "", nil
	}
	s, of := rec.Summary, rec.Of
	s.UpdatedAt, s.Mail = run.UpdatedAt, run.Mail
	if importErrors(imp) {
		s.Errors = report.ImportErrors(s.Errors, rec.Invalid, imp.Errors)
		of = report.Fingerprint(s)
	}
	return &Outcome{Run: run, Summary: s}, of, nil
}
