package emg

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds Parse arbitrary bytes: it never panics, an error is
// always Errors naming the file, and a message it accepts keeps the rules
// it enforces and maps to a valid REST v2 request.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../samples/emg/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(createJSON))
	f.Add([]byte(`{"Task":"{\"Id\":\"bf9f2707-d612-4d63-9958-4c8b1fcf3cc0\",\"Verb\":\"Update\",\"Body\":{\"State\":\"Cancelled\"}}"}`))
	f.Add([]byte(`{"Task":{"Verb":"Update","Body":{"ServiceDetails":{"Visitors":[{}]}}}}`))
	f.Add([]byte(`{"Task": null, "Signature": 5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz.json", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 || m != nil {
				t.Fatalf("Parse error %T %v with message %v; want Errors and no message", err, err, m)
			}
			for _, e := range es {
				if e.File != "fuzz.json" || e.Message == "" {
					t.Fatalf("error %+v does not say where and what", e)
				}
			}
			return
		}
		if m.ID == "" || m.Signature == "" {
			t.Fatalf("accepted message without an Id or signature note: %+v", m)
		}
		switch m.Kind {
		case KindCreate:
			c := m.Create
			if c == nil || len(c.Visitors) == 0 || len(c.Visitors) > MaxVisitors || len(c.Location) == 0 ||
				!c.End.After(c.Start) || c.End.Sub(c.Start) > MaxVisit {
				t.Fatalf("accepted create breaks the rules: %+v", c)
			}
			ref := m.Reference()
			if n := utf8.RuneCountInString(ref); n == 0 || n > MaxReference {
				t.Fatalf("reference %q has %d characters", ref, n)
			}
			b, err := json.Marshal(m.Request(ref))
			if err != nil || !json.Valid(b) {
				t.Fatalf("request of an accepted create: %v", err)
			}
		case KindUpdate:
			if m.Update == nil || m.Update.Start == nil && m.Update.End == nil && m.Update.OpenCabinet == nil {
				t.Fatalf("accepted update changes nothing: %+v", m.Update)
			}
		case KindCancel:
			if m.Cancel == nil || utf8.RuneCountInString(m.Cancel.Reason()) < 5 {
				t.Fatalf("accepted cancel without a reason: %+v", m.Cancel)
			}
		default:
			t.Fatalf("accepted message of kind %q", m.Kind)
		}
	})
}
