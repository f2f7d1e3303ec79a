package emg

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/wvbatch/wvbatch/internal/report"
)

// WritePlan writes, for people, what the batch holds: how many messages of
// each kind, their signatures (never verified) and each message's notes.
func (b Batch) WritePlan(w io.Writer) {
	n := b.Count()
	unverified := 0
	for _, m := range b {
		if m.Msg.Signature != "unsigned" {
			unverified++
		}
	}
	fmt.Fprintf(w, "%d EMG messages: %d Create, %d Update, %d Cancel\n", len(b), n[KindCreate], n[KindUpdate], n[KindCancel])
	if unverified > 0 || len(b) > unverified {
		fmt.Fprintf(w, "signatures: %d not verified, %d unsigned; both ignored (wvbatch holds no EMG key, and the REST API needs no signature)\n",
			unverified, len(b)-unverified)
	}
	for _, m := range b {
		for _, note := range m.Msg.Notes {
			fmt.Fprintf(w, "  note: %s (message %s): %s\n", m.Msg.File, m.Msg.ID, note)
		}
	}
}

// WriteResults writes the messages' results for people, a line a message
// with its error and fix.
func WriteResults(w io.Writer, results []Result) {
	fmt.Fprintln(w, "messages:")
	for _, r := range results {
		id := r.OrderID
		if id == "" {
			id = "-"
		}
		fmt.Fprintf(w, "  %-36s %-6s %-17s %-16s %s\n", r.ID, r.Verb, r.Outcome, id, filepath.Base(r.File))
		if r.Error != "" {
			fmt.Fprintf(w, "      %s\n", r.Error)
			if r.Hint != "" {
				fmt.Fprintf(w, "      fix: %s\n", r.Hint)
			}
		}
	}
}

// Deliver writes the results for people to w (WriteResults), saves them in
// dir (SaveResults) and says where; it reports whether every message did
// what it asked (Result.Done).
func Deliver(w io.Writer, dir string, results []Result) (allDone bool, err error) {
	WriteResults(w, results)
	path, err := SaveResults(dir, results)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "message results: %s\n", path)
	for _, r := range results {
		if !r.Done() {
			return false, nil
		}
	}
	return true, nil
}

// SaveResults writes the results as JSON to messages.json in dir, making
// the folder, and returns the file's path.
func SaveResults(dir string, results []Result) (string, error) {
	return report.WriteJSONFile(dir, "messages.json", results)
}
