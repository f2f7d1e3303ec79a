package emg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Item is one message of a batch: the message, its bytes as read, and its
// position among the batch's messages from 1 (its "row" in the runs it
// takes part in).
type Item struct {
	Msg *Message
	Raw []byte
	N   int
}

// Batch is the messages sent together, in the order given.
type Batch []*Item

// ReadError is a message file that cannot be read.
type ReadError struct {
	File string
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("EMG message %s: %v", e.File, e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// IsBatch reports whether args name EMG messages: every one a .json file
// or a folder.
func IsBatch(args []string) bool {
	if len(args) == 0 {
		return false
	}
	for _, a := range args {
		if strings.EqualFold(filepath.Ext(a), ".json") {
			continue
		}
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			continue
		}
		return false
	}
	return true
}

// NameError is a name given for messages that is not a message file nor a
// folder of them.
type NameError struct {
	Msg, Hint string
}

func (e *NameError) Error() string { return e.Msg }

// Files expands folders to the .json files in them, in name order.
func Files(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, &NameError{fmt.Sprintf("EMG message %s: %v", a, err), "name .json message files or a folder of them"}
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		found, err := filepath.Glob(filepath.Join(a, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, &NameError{fmt.Sprintf("folder %s holds no .json messages", a), "put the EMG messages there as NAME.json"}
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}

// Load reads and checks every message file. Nothing may be sent unless all
// of them are good: it returns every problem of every message as Errors,
// or a *ReadError for a file it cannot read. Two messages with one Id, and
// a Create that starts before now, are problems too.
func Load(files []string, now time.Time) (Batch, error) {
	var b Batch
	var errs Errors
	ids := map[string]string{}
	for _, f := range files {
		raw, err := readLimited(f, MaxMessage+1)
		if err != nil {
			return nil, &ReadError{File: f, Err: err}
		}
		m, err := Parse(f, raw)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) {
				return nil, err
			}
			errs = append(errs, es...)
			continue
		}
		if other, dup := ids[m.ID]; dup {
			errs = append(errs, &FieldError{File: f, ID: m.ID, Field: "Task.Id", Message: "the same Id as " + other + ": every message needs its own"})
			continue
		}
		ids[m.ID] = f
		if m.Create != nil && m.Create.Start.Before(now) {
			errs = append(errs, &FieldError{File: f, ID: m.ID, Field: "Task.Body.ServiceDetails.StartDateTime",
				Message: fmt.Sprintf("%s is in the past (now %s)", m.Create.Start.Format(time.RFC3339), now.UTC().Format(time.RFC3339))})
			continue
		}
		b = append(b, &Item{Msg: m, Raw: raw, N: len(b) + 1})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return b, nil
}

// readLimited reads at most n bytes of a file: enough to tell that a
// message is too large without reading all of it.
func readLimited(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// Count returns how many messages of each kind the batch holds.
func (b Batch) Count() map[Kind]int {
	n := map[Kind]int{}
	for _, it := range b {
		n[it.Msg.Kind]++
	}
	return n
}

// creates returns the batch's Create messages.
func (b Batch) creates() Batch {
	var out Batch
	for _, it := range b {
		if it.Msg.Kind == KindCreate {
			out = append(out, it)
		}
	}
	return out
}

// RunID names the run of the batch's Create messages: the same Create
// messages to the same endpoint give the same run, which resumes.
func (b Batch) RunID(endpoint string) string {
	h := sha256.New()
	h.Write([]byte("emg\x00" + endpoint + "\x00"))
	for _, it := range b.creates() {
		h.Write(it.Raw)
		h.Write([]byte{0})
	}
	return "e" + hex.EncodeToString(h.Sum(nil))[:15]
}
