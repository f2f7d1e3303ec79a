package scheduler

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// Missed-run policies.
const (
	// MissedRunOnce runs the latest missed time once, if it is at most the
	// job's starting deadline old; older times are skipped.
	MissedRunOnce = "run-once"
	// MissedSkip skips every time the daemon was not up to start on time.
	MissedSkip = "skip"
)

// Defaults of a job.
const (
	StartingDeadlineDefault = time.Hour
	// OnTime is how late a run may start and still count as on time under
	// the skip policy (the daemon wakes a moment after the scheduled time).
	OnTime = time.Minute
)

// Job is one scheduled job of a jobs file.
type Job struct {
	Name     string
	Schedule *Schedule
	// Roster is the roster file, a folder or a glob (newest file wins),
	// resolved against the jobs file's folder.
	Roster string
	// Window is the visit window rule for rosters without dates; nil when
	// the roster has Visit Start and Visit End columns.
	Window *Window
	// Order holds the order-level fields; ReportEmails are the recipients
	// of the run's report.
	Order       roster.OrderFields
	Sheet       string
	DateOrder   string
	Endpoint    string // "sandbox", an API base URL, or "" for the daemon's
	Concurrency int    // 0 = the daemon's
	// AllOrNothing orders nothing when any row is invalid or fails the
	// pre-flight.
	AllOrNothing bool
	Missed       string
	// StartingDeadline bounds how late a missed run may start.
	StartingDeadline time.Duration
	// Line is where the job starts in the jobs file.
	Line int
}

// FileError is a problem with a jobs file, with the line and field it is
// on.
type FileError struct {
	Path  string
	Line  int
	Field string
	Msg   string
	Hint  string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// jobFields are the fields a job (and, except name, schedule and roster,
// the defaults) may have.
var jobFields = []string{"name", "schedule", "roster", "window", "description", "reference_prefix", "technical_contact",
	"notification_contacts", "purchase_order", "recipients", "sheet", "date_order", "endpoint", "concurrency",
	"all_or_nothing", "missed", "starting_deadline", "overlap"}

// LoadFile reads and checks a jobs file.
func LoadFile(path string) ([]Job, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Path: path, Msg: "cannot read the jobs file: " + errors.Unwrap(err).Error(), Hint: "check the --config path"}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, &FileError{Path: path, Msg: err.Error()}
	}
	return Parse(b, path, dir)
}

// Parse checks a jobs file's content; relative roster paths are resolved
// against dir.
func Parse(b []byte, path, dir string) ([]Job, error) {
	p := &jobsParser{path: path, dir: dir}
	// The file as a tree first: its syntax errors, and the lines where its
	// sections and jobs start.
	if err := yaml.Unmarshal(b, &p.doc); err != nil {
		return nil, p.syntaxErr(err)
	}
	if p.doc.Kind == 0 {
		return nil, &FileError{Path: path, Msg: "the jobs file is empty", Hint: "add a jobs: list (see samples/jobs.yaml)"}
	}
	var f jobsFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, p.decodeErr(err)
	}
	return p.jobs(&f)
}

// jobsFile is a jobs file as written.
type jobsFile struct {
	Defaults *defaultsYAML `yaml:"defaults"`
	Jobs     []jobYAML     `yaml:"jobs"`
}

// jobYAML is a job as written; every field keeps its node (and so its line)
// until it is checked.
type jobYAML struct {
	Name                 raw         `yaml:"name"`
	Schedule             raw         `yaml:"schedule"`
	Roster               raw         `yaml:"roster"`
	Window               *windowYAML `yaml:"window"`
	Description          raw         `yaml:"description"`
	ReferencePrefix      raw         `yaml:"reference_prefix"`
	TechnicalContact     raw         `yaml:"technical_contact"`
	NotificationContacts raw         `yaml:"notification_contacts"`
	PurchaseOrder        raw         `yaml:"purchase_order"`
	Recipients           raw         `yaml:"recipients"`
	Sheet                raw         `yaml:"sheet"`
	DateOrder            raw         `yaml:"date_order"`
	Endpoint             raw         `yaml:"endpoint"`
	Concurrency          raw         `yaml:"concurrency"`
	AllOrNothing         raw         `yaml:"all_or_nothing"`
	Missed               raw         `yaml:"missed"`
	StartingDeadline     raw         `yaml:"starting_deadline"`
	Overlap              raw         `yaml:"overlap"`
}

// defaultsYAML is the defaults: section, a job's fields but name, schedule
// and roster (a type of its own so that the decoder's errors name it).
type defaultsYAML jobYAML

// windowYAML is a window rule as written.
type windowYAML struct {
	Start raw `yaml:"start"`
	From  raw `yaml:"from"`
	To    raw `yaml:"to"`
	Days  raw `yaml:"days"`
}

// raw is one value of the jobs file, kept as its node: present or not,
// its line, and its kind (a single value, a list, a mapping).
type raw struct{ n *yaml.Node }

func (f *raw) UnmarshalYAML(n *yaml.Node) error {
	f.n = n
	return nil
}

// jobsParser checks a decoded jobs file and turns it into Jobs.
type jobsParser struct {
	path, dir string
	doc       yaml.Node
}

func (p *jobsParser) fail(line int, field, msg, hint string) error {
	return &FileError{Path: p.path, Line: line, Field: field, Msg: msg, Hint: hint}
}

// syntaxErr turns a YAML syntax error into a FileError on its line.
func (p *jobsParser) syntaxErr(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	fe := &FileError{Path: p.path, Msg: msg, Hint: "the jobs file is YAML: check indentation and quotes"}
	if _, rest, ok := strings.Cut(msg, "line "); ok {
		fmt.Sscanf(rest, "%d", &fe.Line)
		if _, after, ok := strings.Cut(rest, ": "); ok {
			fe.Msg = after
		}
	}
	return fe
}

var (
	unknownFieldRe = regexp.MustCompile(`^line (\d+): field (.+) not found in type scheduler\.(\w+)$`)
	wrongKindRe    = regexp.MustCompile(`^line (\d+): cannot unmarshal (!!\w+).* into (\[\])?\*?scheduler\.(\w+)$`)
	duplicateRe    = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
)

// decodeErr turns the decoder's first complaint (an unknown field, a
// section of the wrong kind, a field written twice) into a FileError.
func (p *jobsParser) decodeErr(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return p.syntaxErr(err)
	}
	msg := te.Errors[0]
	atoi := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	if m := unknownFieldRe.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		switch m[3] {
		case "jobsFile":
			return p.fail(line, m[2], "unknown field", "the top level has defaults: and jobs:")
		case "windowYAML":
			return p.fail(line, p.prefix(line)+"window."+m[2], "unknown field", "a window has start, from, to and days")
		default:
			return p.fail(line, p.prefix(line)+m[2], "unknown field", "job fields: "+strings.Join(jobFields, ", "))
		}
	}
	if m := wrongKindRe.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		switch {
		case m[4] == "jobsFile":
			return p.fail(line, "", "want a mapping with a jobs: list", "see samples/jobs.yaml")
		case m[4] == "jobYAML" && m[3] != "":
			return p.fail(line, "jobs", "no jobs", "add a jobs: list with at least one job (see samples/jobs.yaml)")
		case m[4] == "jobYAML":
			return p.fail(line, "jobs", "each job is a mapping (name:, schedule:, roster: …)", "see samples/jobs.yaml")
		case m[4] == "defaultsYAML":
			return p.fail(line, "defaults", "want a mapping of job fields", "see samples/jobs.yaml")
		case m[4] == "windowYAML":
			return p.fail(line, p.prefix(line)+"window", "want start:, from:, to: and days:",
				`e.g. {start: "first saturday of next month", from: "08:00", to: "18:00", days: 2}`)
		}
	}
	if m := duplicateRe.FindStringSubmatch(msg); m != nil {
		return p.fail(atoi(m[1]), p.prefix(atoi(m[1]))+m[2], "written twice (first on line "+m[3]+")", "keep one of the two")
	}
	return p.fail(0, "", msg, "see samples/jobs.yaml")
}

// section returns the top-level key named name and its value, if any.
func (p *jobsParser) section(name string) (key, value *yaml.Node) {
	root := &p.doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == name {
			return root.Content[i], resolve(root.Content[i+1])
		}
	}
	return nil, nil
}

// prefix is "defaults." for a line of the defaults: section, else "".
func (p *jobsParser) prefix(line int) string {
	dk, _ := p.section("defaults")
	if dk == nil || line <= dk.Line {
		return ""
	}
	if jk, _ := p.section("jobs"); jk != nil && jk.Line > dk.Line && line >= jk.Line {
		return ""
	}
	return "defaults."
}

// jobs checks every job, each on top of the defaults.
func (p *jobsParser) jobs(f *jobsFile) ([]Job, error) {
	jk, jv := p.section("jobs")
	if len(f.Jobs) == 0 {
		line := 1
		if jk != nil {
			line = jv.Line
		} else if p.doc.Kind == yaml.DocumentNode && len(p.doc.Content) == 1 {
			line = p.doc.Content[0].Line
		}
		return nil, p.fail(line, "jobs", "no jobs", "add a jobs: list with at least one job (see samples/jobs.yaml)")
	}
	base := Job{Missed: MissedRunOnce, StartingDeadline: StartingDeadlineDefault}
	if d := f.Defaults; d != nil {
		for _, c := range []struct {
			name string
			f    raw
		}{{"name", d.Name}, {"schedule", d.Schedule}, {"roster", d.Roster}} {
			if c.f.n != nil {
				return nil, p.fail(c.f.n.Line, "defaults."+c.name, "cannot be a default", "give each job its own "+c.name)
			}
		}
		_, dv := p.section("defaults")
		if err := p.apply(&base, (*jobYAML)(d), dv, "defaults."); err != nil {
			return nil, err
		}
	}
	var jobs []Job
	seen := map[string]int{}
	for i := range f.Jobs {
		m := resolve(jv.Content[i])
		line := jv.Content[i].Line
		j := base
		j.Line = line
		j.Order.NotificationContacts = slices.Clone(base.Order.NotificationContacts)
		j.Order.ReportEmails = slices.Clone(base.Order.ReportEmails)
		if err := p.apply(&j, &f.Jobs[i], m, ""); err != nil {
			return nil, err
		}
		for _, req := range []struct {
			field string
			ok    bool
		}{{"name", j.Name != ""}, {"schedule", j.Schedule != nil}, {"roster", j.Roster != ""}} {
			if !req.ok {
				return nil, p.fail(line, req.field, "missing", "every job needs name, schedule and roster")
			}
		}
		if first, dup := seen[j.Name]; dup {
			return nil, p.fail(line, "name", fmt.Sprintf("job %q is already defined on line %d", j.Name, first), "give every job its own name")
		}
		seen[j.Name] = line
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// apply checks the fields y sets, in the file's order, and sets them on j;
// m is y's node in the file.
func (p *jobsParser) apply(j *Job, y *jobYAML, m *yaml.Node, prefix string) error {
	checks := append(p.runFields(j, y), p.orderFields(j, y)...)
	if y.Window != nil {
		checks = append(checks, check{"window", raw{cmp.Or(value(m, "window"), m)}, func(n *yaml.Node, field string) error {
			w, err := p.window(y.Window, n, field)
			j.Window = w
			return err
		}})
	}
	// The file's order, so that the first problem reported is the first in
	// the file.
	checks = slices.DeleteFunc(checks, func(c check) bool { return c.f.n == nil })
	slices.SortStableFunc(checks, func(a, b check) int { return cmp.Compare(a.f.n.Line, b.f.n.Line) })
	for _, c := range checks {
		if err := c.set(c.f.n, prefix+c.name); err != nil {
			return err
		}
	}
	return nil
}

// check is one field of a job: its name, its value as written, and what
// checks it and sets it on the Job.
type check struct {
	name string
	f    raw
	set  func(n *yaml.Node, field string) error
}

// runFields are the fields that say what a job reads, when and how it runs.
func (p *jobsParser) runFields(j *Job, y *jobYAML) []check {
	return []check{
		{"name", y.Name, p.text(func(s string, n *yaml.Node, field string) error {
			if !nameRe.MatchString(s) {
				return p.fail(n.Line, field, fmt.Sprintf("name %q: use letters, digits, '.', '_' and '-' (at most 64)", s), "e.g. dc2-monthly-ups")
			}
			j.Name = s
			return nil
		})},
		{"schedule", y.Schedule, p.text(func(s string, n *yaml.Node, field string) error {
			sch, err := ParseSchedule(s)
			if err != nil {
				return p.fail(n.Line, field, err.Error(),
					`5 fields (minute hour day month weekday), 6 with seconds first, or @monthly/@weekly/@daily/@every 1h; a CRON_TZ=Europe/Amsterdam prefix sets the zone`)
			}
			j.Schedule = sch
			return nil
		})},
		{"roster", y.Roster, p.text(func(s string, n *yaml.Node, field string) error {
			if s == "" {
				return p.fail(n.Line, field, "empty", "a roster file, a folder, or a glob such as rosters/*.xlsx")
			}
			if !filepath.IsAbs(s) {
				s = filepath.Join(p.dir, s)
			}
			j.Roster = s
			return nil
		})},
		{"sheet", y.Sheet, p.text(func(s string, _ *yaml.Node, _ string) error { j.Sheet = s; return nil })},
		{"date_order", y.DateOrder, p.text(func(s string, n *yaml.Node, field string) error {
			if _, err := roster.ParseDateOrder(s); err != nil {
				return p.fail(n.Line, field, err.Error(), "dmy (3/4 = 3 April) or mdy (3/4 = March 4)")
			}
			j.DateOrder = s
			return nil
		})},
		{"endpoint", y.Endpoint, p.text(func(s string, n *yaml.Node, field string) error {
			if s != "" && s != "sandbox" {
				u, err := url.Parse(s)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					return p.fail(n.Line, field, fmt.Sprintf("%q is not sandbox or an http(s) URL", s), "sandbox, or the API's base URL such as https://api.equinix.com")
				}
			}
			j.Endpoint = s
			return nil
		})},
		{"concurrency", y.Concurrency, p.text(func(s string, n *yaml.Node, field string) error {
			var c int
			if err := n.Decode(&c); err != nil || c < 1 || c > 64 {
				return p.fail(n.Line, field, fmt.Sprintf("%q: want a number from 1 to 64", s), "orders in flight at once")
			}
			j.Concurrency = c
			return nil
		})},
		{"all_or_nothing", y.AllOrNothing, p.text(func(s string, n *yaml.Node, field string) error {
			var b bool
			if err := n.Decode(&b); err != nil {
				return p.fail(n.Line, field, fmt.Sprintf("%q: want true or false", s), "true orders nothing when any row is invalid or fails the pre-flight")
			}
			j.AllOrNothing = b
			return nil
		})},
		{"missed", y.Missed, p.text(func(s string, n *yaml.Node, field string) error {
			if s != MissedRunOnce && s != MissedSkip {
				return p.fail(n.Line, field, fmt.Sprintf("%q: want run-once or skip", s), "run-once runs the latest missed time within starting_deadline; skip runs none")
			}
			j.Missed = s
			return nil
		})},
		{"starting_deadline", y.StartingDeadline, p.text(func(s string, n *yaml.Node, field string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return p.fail(n.Line, field, fmt.Sprintf("%q is not a positive duration", s), "write it like 1h or 30m")
			}
			j.StartingDeadline = d
			return nil
		})},
		{"overlap", y.Overlap, p.text(func(s string, n *yaml.Node, field string) error {
			if s != "skip" {
				return p.fail(n.Line, field, fmt.Sprintf("%q: the only overlap policy is skip", s), "a job still running is not started again; the time is skipped and logged")
			}
			return nil
		})},
	}
}

// orderFields are the fields of the orders a job places.
func (p *jobsParser) orderFields(j *Job, y *jobYAML) []check {
	return []check{
		{"description", y.Description, p.text(func(s string, _ *yaml.Node, _ string) error { j.Order.Description = s; return nil })},
		{"reference_prefix", y.ReferencePrefix, p.text(func(s string, _ *yaml.Node, _ string) error { j.Order.ReferencePrefix = s; return nil })},
		{"technical_contact", y.TechnicalContact, p.text(func(s string, _ *yaml.Node, _ string) error { j.Order.TechnicalContact = s; return nil })},
		{"purchase_order", y.PurchaseOrder, p.text(func(s string, _ *yaml.Node, _ string) error { j.Order.PurchaseOrder = s; return nil })},
		{"notification_contacts", y.NotificationContacts, p.list(func(l []string, _ *yaml.Node, _ string) error {
			j.Order.NotificationContacts = l
			return nil
		})},
		{"recipients", y.Recipients, p.list(func(l []string, n *yaml.Node, field string) error {
			for _, r := range l {
				if !strings.Contains(r, "@") || strings.ContainsAny(r, " <>") {
					return p.fail(n.Line, field, fmt.Sprintf("%q is not an email address", r), "list the addresses that get the run's report")
				}
			}
			j.Order.ReportEmails = l
			return nil
		})},
	}
}

// text checks that a field is a single value and hands it over trimmed.
func (p *jobsParser) text(set func(s string, n *yaml.Node, field string) error) func(*yaml.Node, string) error {
	return func(n *yaml.Node, field string) error {
		if n.Kind != yaml.ScalarNode {
			return p.fail(n.Line, field, "want a single value", "")
		}
		return set(strings.TrimSpace(n.Value), n, field)
	}
}

// list reads a field that is a list, or one value of comma-separated items.
func (p *jobsParser) list(set func(l []string, n *yaml.Node, field string) error) func(*yaml.Node, string) error {
	return func(n *yaml.Node, field string) error {
		var out []string
		switch n.Kind {
		case yaml.ScalarNode:
			for _, s := range strings.Split(n.Value, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		case yaml.SequenceNode:
			for _, e := range n.Content {
				if e.Kind != yaml.ScalarNode {
					return p.fail(e.Line, field, "want a list of values", "")
				}
				out = append(out, strings.TrimSpace(e.Value))
			}
		default:
			return p.fail(n.Line, field, "want a list of values", "")
		}
		return set(out, n, field)
	}
}

// window checks a window rule; m is the window's node in the file.
func (p *jobsParser) window(y *windowYAML, m *yaml.Node, field string) (*Window, error) {
	var ws WindowSpec
	for _, c := range []struct {
		name string
		f    raw
		to   *string
	}{{"start", y.Start, &ws.Start}, {"from", y.From, &ws.From}, {"to", y.To, &ws.To}, {"days", y.Days, nil}} {
		n := c.f.n
		switch {
		case n == nil:
		case n.Kind != yaml.ScalarNode:
			return nil, p.fail(n.Line, field+"."+c.name, "want a single value", "")
		case c.to != nil:
			*c.to = n.Value
		default:
			if err := n.Decode(&ws.Days); err != nil {
				return nil, p.fail(n.Line, field+".days", fmt.Sprintf("%q is not a number", n.Value), "the number of days the visit spans")
			}
		}
	}
	w, err := ParseWindow(ws)
	if err != nil {
		var we *windowError
		if !errors.As(err, &we) {
			return nil, p.fail(m.Line, field, err.Error(), "")
		}
		line := m.Line
		if n := map[string]*yaml.Node{"start": y.Start.n, "from": y.From.n, "to": y.To.n, "days": y.Days.n}[we.field]; n != nil {
			line = n.Line
		}
		return nil, p.fail(line, field+"."+we.field, we.msg, we.hint)
	}
	return w, nil
}

// value returns the value of key in mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// resolve follows an alias (*name) to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// ResolveRoster returns the file a run of the job reads: the roster itself,
// or the newest .xlsx or .csv file in a folder or matching a glob.
func (j *Job) ResolveRoster() (string, error) {
	p := j.Roster
	var candidates []string
	if strings.ContainsAny(p, "*?[") {
		m, err := filepath.Glob(p)
		if err != nil {
			return "", fmt.Errorf("roster %s: %v", p, err)
		}
		candidates = m
	} else {
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("roster %s: %w", p, err)
		}
		if !fi.IsDir() {
			return p, nil
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return "", fmt.Errorf("roster %s: %w", p, err)
		}
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".xlsx", ".csv":
				if !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "~$") {
					candidates = append(candidates, filepath.Join(p, e.Name()))
				}
			}
		}
	}
	var best string
	var bestTime time.Time
	for _, c := range candidates {
		fi, err := os.Stat(c)
		if err != nil || fi.IsDir() {
			continue
		}
		if best == "" || fi.ModTime().After(bestTime) || fi.ModTime().Equal(bestTime) && c > best {
			best, bestTime = c, fi.ModTime()
		}
	}
	if best == "" {
		return "", fmt.Errorf("roster %s: no .xlsx or .csv file found", p)
	}
	return best, nil
}
