package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's JSON examples from the commands' output")

// readmeRoster is the roster of the README's JSON examples: one valid row
// and one invalid.
const readmeRoster = `IBX,Cage,Visit Start,Visit End,First Name,Last Name,Company
AM1,AM1:01:000111,2027-01-11T08:00,2027-01-11T18:00,Anna,Jansen,Acme
AM1,AM1:01:000111,2027-01-11T08:00,2027-01-11T18:00,D4vid,Smit,Acme
`

// jsonExampleRe finds the README's JSON examples: a marker naming the
// example, then a fenced JSON block.
var jsonExampleRe = regexp.MustCompile("(?s)<!-- json-example ([a-z-]+) -->\n```json\n(.*?)\n```")

// TestREADMEJSONExamples runs every command that has --json as the README
// says (against the in-process sandbox) and checks that the README's example
// of its output has the same keys, at every level, as what it prints. With
// -update-readme it writes the output into the README instead.
func TestREADMEJSONExamples(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	roster := filepath.Join(dir, "visitors.csv")
	if err := os.WriteFile(roster, []byte(readmeRoster), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, nil)
	const now = "2027-01-04T09:00:00Z"
	var runID string
	steps := []struct {
		name string
		args func() []string
		code int
	}{
		{"validate", func() []string { return []string{"validate", roster, "--json", "--now", now} }, exitRows},
		{"submit", func() []string { return []string{"submit", roster, "--sandbox", "--yes", "--json", "--now", now} }, exitRows},
		{"resume", func() []string { return []string{"resume", runID, "--json"} }, exitOK},
		{"reschedule", func() []string { return []string{"reschedule", runID, "--yes", "--shift", "24h", "--json"} }, exitOK},
		{"amend", func() []string { return []string{"amend", runID, "--yes", "--open-cabinet", "true", "--json"} }, exitOK},
		{"status", func() []string { return []string{"status", runID, "--json"} }, exitOK},
		{"runs", func() []string { return []string{"runs", "--json"} }, exitOK},
		{"cancel", func() []string { return []string{"cancel", runID, "--yes", "--reason", "visit postponed", "--json"} }, exitOK},
		{"version", func() []string { return []string{"version", "--json"} }, exitOK},
	}
	outputs := map[string]string{}
	for _, s := range steps {
		code, out, _ := c.run(s.args()...)
		if code != s.code {
			t.Fatalf("%s: exit %d, want %d", s.name, code, s.code)
		}
		if s.name == "submit" {
			var doc struct {
				RunID string `json:"run_id"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.RunID == "" {
				t.Fatalf("submit --json: no run_id (%v)", err)
			}
			runID = doc.RunID
		}
		outputs[s.name] = strings.TrimSpace(strings.ReplaceAll(out, dir+string(filepath.Separator), ""))
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if *updateREADME {
		readme = jsonExampleRe.ReplaceAllFunc(readme, func(m []byte) []byte {
			name := string(jsonExampleRe.FindSubmatch(m)[1])
			out, ok := outputs[name]
			if !ok {
				t.Errorf("the README has an example of %q, which this test does not run", name)
				return m
			}
			return fmt.Appendf(nil, "<!-- json-example %s -->\n```json\n%s\n```", name, out)
		})
		if err := os.WriteFile("../../README.md", readme, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	examples := map[string]string{}
	for _, m := range jsonExampleRe.FindAllSubmatch(readme, -1) {
		examples[string(m[1])] = string(m[2])
	}
	for _, s := range steps {
		ex, ok := examples[s.name]
		if !ok {
			t.Errorf("the README has no JSON example of %s (<!-- json-example %s --> before a ```json block)", s.name, s.name)
			continue
		}
		var want, got any
		if err := json.Unmarshal([]byte(ex), &want); err != nil {
			t.Errorf("the README's example of %s is not JSON: %v", s.name, err)
			continue
		}
		if err := json.Unmarshal([]byte(outputs[s.name]), &got); err != nil {
			t.Errorf("%s --json printed no JSON document: %v", s.name, err)
			continue
		}
		if w, g := jsonKeys(want), jsonKeys(got); !slices.Equal(w, g) {
			t.Errorf("the README's example of %s has keys\n%s\n%s --json prints\n%s\n(go test -run TestREADMEJSONExamples -update-readme ./cmd/wvbatch writes the output in)",
				s.name, strings.Join(w, " "), s.name, strings.Join(g, " "))
		}
	}
}

// jsonKeys lists the key paths of a JSON value, sorted: "a", "a.b",
// "list[].c" (the keys of every element of a list).
func jsonKeys(v any) []string {
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				seen[p] = true
				walk(p, e)
			}
		case []any:
			for _, e := range v {
				walk(prefix+"[]", e)
			}
		}
	}
	walk("", v)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestJSONKeys: key paths at every level, the keys of every element of a
// list, and nothing for values.
func TestJSONKeys(t *testing.T) {
	t.Parallel()
	var v any
	if err := json.NewDecoder(bytes.NewReader([]byte(`{"a": 1, "l": [{"b": 2}, {"c": {"d": [3]}}], "e": {}}`))).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(jsonKeys(v), " "), "a e l l[].b l[].c l[].c.d"; got != want {
		t.Errorf("jsonKeys = %q, want %q", got, want)
	}
}
