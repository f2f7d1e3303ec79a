package scheduler

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

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
	Missed      string
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
	"missed", "starting_deadline", "overlap"}

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
	fail := func(n *yaml.Node, field, msg, hint string) error {
		line := 0
		if n != nil {
			line = n.Line
		}
		return &FileError{Path: path, Line: line, Field: field, Msg: msg, Hint: hint}
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		fe := &FileError{Path: path, Msg: msg, Hint: "the jobs file is YAML: check indentation and quotes"}
		if _, rest, ok := strings.Cut(msg, "line "); ok {
			fmt.Sscanf(rest, "%d", &fe.Line)
			if _, after, ok := strings.Cut(rest, ": "); ok {
				fe.Msg = after
			}
		}
		if err.Error() == "EOF" {
			fe.Msg, fe.Hint = "the jobs file is empty", "add a jobs: list (see samples/jobs.yaml)"
		}
		return nil, fe
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(root, "", "want a mapping with a jobs: list", "see samples/jobs.yaml")
	}
	var defaults, jobsNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "defaults":
			defaults = v
		case "jobs":
			jobsNode = v
		default:
			return nil, fail(k, k.Value, "unknown field", "the top level has defaults: and jobs:")
		}
	}
	if jobsNode == nil || jobsNode.Kind != yaml.SequenceNode || len(jobsNode.Content) == 0 {
		n := jobsNode
		if n == nil {
			n = root
		}
		return nil, fail(n, "jobs", "no jobs", "add a jobs: list with at least one job (see samples/jobs.yaml)")
	}
	base := Job{Missed: MissedRunOnce, StartingDeadline: StartingDeadlineDefault}
	if defaults != nil {
		if defaults.Kind != yaml.MappingNode {
			return nil, fail(defaults, "defaults", "want a mapping of job fields", "see samples/jobs.yaml")
		}
		for i := 0; i+1 < len(defaults.Content); i += 2 {
			k := defaults.Content[i]
			switch k.Value {
			case "name", "schedule", "roster":
				return nil, fail(k, "defaults."+k.Value, "cannot be a default", "give each job its own "+k.Value)
			}
		}
		if err := applyFields(&base, defaults, dir, fail, "defaults."); err != nil {
			return nil, err
		}
	}
	var jobs []Job
	seen := map[string]int{}
	for _, jn := range jobsNode.Content {
		if jn.Kind != yaml.MappingNode {
			return nil, fail(jn, "jobs", "each job is a mapping (name:, schedule:, roster: …)", "see samples/jobs.yaml")
		}
		j := base
		j.Line = jn.Line
		j.Order.NotificationContacts = slices.Clone(base.Order.NotificationContacts)
		j.Order.ReportEmails = slices.Clone(base.Order.ReportEmails)
		if err := applyFields(&j, jn, dir, fail, ""); err != nil {
			return nil, err
		}
		for _, req := range []struct {
			field string
			ok    bool
		}{{"name", j.Name != ""}, {"schedule", j.Schedule != nil}, {"roster", j.Roster != ""}} {
			if !req.ok {
				return nil, fail(jn, req.field, "missing", "every job needs name, schedule and roster")
			}
		}
		if line, dup := seen[j.Name]; dup {
			return nil, fail(jn, "name", fmt.Sprintf("job %q is already defined on line %d", j.Name, line), "give every job its own name")
		}
		seen[j.Name] = jn.Line
		jobs = append(jobs, j)
	}
	return jobs, nil
}

type failFunc func(n *yaml.Node, field, msg, hint string) error

func applyFields(j *Job, m *yaml.Node, dir string, fail failFunc, prefix string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		field := prefix + k.Value
		str := func() (string, error) {
			if v.Kind != yaml.ScalarNode {
				return "", fail(v, field, "want a single value", "")
			}
			return strings.TrimSpace(v.Value), nil
		}
		list := func() ([]string, error) {
			var out []string
			switch v.Kind {
			case yaml.ScalarNode:
				for _, s := range strings.Split(v.Value, ",") {
					if s = strings.TrimSpace(s); s != "" {
						out = append(out, s)
					}
				}
			case yaml.SequenceNode:
				for _, e := range v.Content {
					if e.Kind != yaml.ScalarNode {
						return nil, fail(e, field, "want a list of values", "")
					}
					out = append(out, strings.TrimSpace(e.Value))
				}
			default:
				return nil, fail(v, field, "want a list of values", "")
			}
			return out, nil
		}
		var s string
		var err error
		if k.Value != "window" && k.Value != "notification_contacts" && k.Value != "recipients" {
			if s, err = str(); err != nil {
				return err
			}
		}
		switch k.Value {
		case "name":
			if !nameRe.MatchString(s) {
				return fail(v, field, fmt.Sprintf("name %q: use letters, digits, '.', '_' and '-' (at most 64)", s), "e.g. dc2-monthly-ups")
			}
			j.Name = s
		case "schedule":
			sch, err := ParseSchedule(s)
			if err != nil {
				return fail(v, field, err.Error(),
					`5 fields (minute hour day month weekday), 6 with seconds first, or @monthly/@weekly/@daily/@every 1h; a CRON_TZ=Europe/Amsterdam prefix sets the zone`)
			}
			j.Schedule = sch
		case "roster":
			if s == "" {
				return fail(v, field, "empty", "a roster file, a folder, or a glob such as rosters/*.xlsx")
			}
			if !filepath.IsAbs(s) {
				s = filepath.Join(dir, s)
			}
			j.Roster = s
		case "window":
			var ws WindowSpec
			if v.Kind != yaml.MappingNode {
				return fail(v, field, "want start:, from:, to: and days:", `e.g. {start: "first saturday of next month", from: "08:00", to: "18:00", days: 2}`)
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				wk, wv := v.Content[i], v.Content[i+1]
				if wv.Kind != yaml.ScalarNode {
					return fail(wv, field+"."+wk.Value, "want a single value", "")
				}
				switch wk.Value {
				case "start":
					ws.Start = wv.Value
				case "from":
					ws.From = wv.Value
				case "to":
					ws.To = wv.Value
				case "days":
					if err := wv.Decode(&ws.Days); err != nil {
						return fail(wv, field+".days", fmt.Sprintf("%q is not a number", wv.Value), "the number of days the visit spans")
					}
				default:
					return fail(wk, field+"."+wk.Value, "unknown field", "a window has start, from, to and days")
				}
			}
			w, err := ParseWindow(ws)
			if err != nil {
				var we *windowError
				if errors.As(err, &we) {
					n := v
					for i := 0; i+1 < len(v.Content); i += 2 {
						if v.Content[i].Value == we.field {
							n = v.Content[i+1]
						}
					}
					return fail(n, field+"."+we.field, we.msg, we.hint)
				}
				return fail(v, field, err.Error(), "")
			}
			j.Window = w
		case "description":
			j.Order.Description = s
		case "reference_prefix":
			j.Order.ReferencePrefix = s
		case "technical_contact":
			j.Order.TechnicalContact = s
		case "purchase_order":
			j.Order.PurchaseOrder = s
		case "notification_contacts":
			if j.Order.NotificationContacts, err = list(); err != nil {
				return err
			}
		case "recipients":
			if j.Order.ReportEmails, err = list(); err != nil {
				return err
			}
			for _, r := range j.Order.ReportEmails {
				if !strings.Contains(r, "@") || strings.ContainsAny(r, " <>") {
					return fail(v, field, fmt.Sprintf("%q is not an email address", r), "list the addresses that get the run's report")
				}
			}
		case "sheet":
			j.Sheet = s
		case "date_order":
			if _, err := roster.ParseDateOrder(s); err != nil {
				return fail(v, field, err.Error(), "dmy (3/4 = 3 April) or mdy (3/4 = March 4)")
			}
			j.DateOrder = s
		case "endpoint":
			if s != "" && s != "sandbox" {
				u, err := url.Parse(s)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					return fail(v, field, fmt.Sprintf("%q is not sandbox or an http(s) URL", s), "sandbox, or the API's base URL such as https://api.equinix.com")
				}
			}
			j.Endpoint = s
		case "concurrency":
			var n int
			if err := v.Decode(&n); err != nil || n < 1 || n > 64 {
				return fail(v, field, fmt.Sprintf("%q: want a number from 1 to 64", s), "orders in flight at once")
			}
			j.Concurrency = n
		case "missed":
			if s != MissedRunOnce && s != MissedSkip {
				return fail(v, field, fmt.Sprintf("%q: want run-once or skip", s), "run-once runs the latest missed time within starting_deadline; skip runs none")
			}
			j.Missed = s
		case "starting_deadline":
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return fail(v, field, fmt.Sprintf("%q is not a positive duration", s), "write it like 1h or 30m")
			}
			j.StartingDeadline = d
		case "overlap":
			if s != "skip" {
				return fail(v, field, fmt.Sprintf("%q: the only overlap policy is skip", s), "a job still running is not started again; the time is skipped and logged")
			}
		default:
			return fail(k, field, "unknown field", "job fields: "+strings.Join(jobFields, ", "))
		}
	}
	return nil
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
