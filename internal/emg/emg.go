package emg

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the EMG WorkVisit schema.
const (
	MaxVisitors          = 50
	MaxVisit             = 14 * 24 * time.Hour
	MaxUpdateDescription = 3800
	MaxEmail             = 100
	MaxReference         = 40 // customerReferenceId on REST v2
	MaxAttachments       = 5
	MaxMessage           = 1 << 20
)

// Kind is what a message asks for.
type Kind string

// Message kinds. A Cancel is an Update whose Body has State "Cancelled".
const (
	KindCreate Kind = "Create"
	KindUpdate Kind = "Update"
	KindCancel Kind = "Cancel"
)

// Message is one parsed EMG WorkVisit message.
type Message struct {
	// File is where the message came from, for errors and reports.
	File     string
	ID       string
	Source   string
	Kind     Kind
	Version  string
	Resource string
	// Signature says what became of the envelope's signature: it is never
	// verified (wvbatch holds no EMG key, and the REST API does not need
	// one).
	Signature string

	Create *Create
	Update *Update
	Cancel *Cancel
	// Notes are things the message asks that REST v2 cannot carry; they are
	// reported, and the rest of the message goes ahead.
	Notes []string
}

// Visitor is one visitor of a Create: a registered user (UserName) or a
// person by name.
type Visitor struct {
	UserName               string
	FirstName, LastName    string
	CompanyName            string
	Email                  string
	MobilePhoneCountryCode string
	MobilePhone            string
}

// Attachment is an attachment of a message: by Url (not carried over) or
// by the Id of a file already uploaded to Equinix.
type Attachment struct {
	Name string
	URL  string
	ID   string
}

// Contact is an AdditionalContacts entry: the technical contact, who need
// not be a registered user.
type Contact struct {
	Name                 string
	Email                string
	WorkPhoneCountryCode string
	WorkPhone            string
	MobilePhoneCountry   string
	MobilePhone          string
	TimeZone             string
}

// Create is the body of a Create message.
type Create struct {
	RequestorID        string
	RequestorIDUnique  bool
	Location           []string
	CustomerContact    string
	Description        string
	Attachments        []Attachment
	AdditionalContacts []Contact
	Visitors           []Visitor
	Start, End         time.Time
	OpenCabinet        bool
	Supervision        bool
}

// Update is the body of an Update message without State: a change to the
// order ServicerId (or, without it, the order whose reference is
// RequestorId).
type Update struct {
	ServicerID  string
	RequestorID string
	Description string
	Start, End  *time.Time
	OpenCabinet *bool
}

// Cancel is the body of an Update message with State "Cancelled".
type Cancel struct {
	ServicerID  string
	RequestorID string
	Description string
}

// Order is how the message names the order it is about (Update, Cancel).
func (m *Message) Order() (servicerID, requestorID string) {
	switch {
	case m.Update != nil:
		return m.Update.ServicerID, m.Update.RequestorID
	case m.Cancel != nil:
		return m.Cancel.ServicerID, m.Cancel.RequestorID
	}
	return "", ""
}

// FieldError is one problem with a message.
type FieldError struct {
	File string
	ID   string // the message's Task.Id, when it could be read
	// Field is the JSON path of the field in the envelope, e.g.
	// "Task.Body.ServiceDetails.Visitors[3].Email"; empty for the envelope
	// as a whole.
	Field   string
	Message string
	// Envelope is set for problems that make the message unreadable (bad
	// JSON, wrong Resource, no Body), rather than a field breaking a rule.
	Envelope bool
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.ID != "" {
		b.WriteString(" (message " + e.ID + ")")
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in a message.
type Errors []*FieldError

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Summary is the one line that sums the problems of a batch of files up.
func (es Errors) Summary(files int) error {
	bad := map[string]bool{}
	for _, fe := range es {
		bad[fe.File] = true
	}
	return fmt.Errorf("%d of %d messages have problems (%d in all); nothing was sent", len(bad), files, len(es))
}

// Envelope reports whether any problem makes a message unreadable.
func (es Errors) Envelope() bool {
	for _, e := range es {
		if e.Envelope {
			return true
		}
	}
	return false
}

var (
	guidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	locationRe = regexp.MustCompile(`^([A-Z]{2}[0-9]{1,3}):([0-9A-Z]{1,4}):([0-9A-Z]{1,12})(?::([0-9A-Z]{1,12}))?$`)
	orderIDRe  = regexp.MustCompile(`^1-[0-9]{1,20}$`)
	// The EMG schema's own expressions.
	countryCodeRe = regexp.MustCompile(`^\+[0-9]{1,6}$`)
	phoneRe       = regexp.MustCompile(`^[0-9\.\-() ]{2,40}(?:(x|ext)[0-9\.\-() ]{1,10})?$`)
	emailRe       = regexp.MustCompile(`^(([^<>()\[\]\.,;:\s@"]+(\.[^<>()\[\]\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$`)
	contactNameRe = regexp.MustCompile(`^[\s.]*([^\s.][\s.]*){1,100}$`)
)

// checker gathers a message's problems.
type checker struct {
	file, id string
	errs     Errors
}

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{File: c.file, ID: c.id, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) envelope(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{File: c.file, ID: c.id, Field: field, Message: fmt.Sprintf(format, args...), Envelope: true})
}

// Parse reads one message. file names it in errors. The error, if any, is
// Errors: every problem found.
func Parse(file string, data []byte) (*Message, error) {
	c := &checker{file: file}
	m, ok := c.parse(data)
	if len(c.errs) > 0 || !ok {
		if len(c.errs) == 0 {
			c.envelope("", "the message cannot be read")
		}
		return nil, c.errs
	}
	m.File = file
	return m, nil
}

type envelope struct {
	Task      json.RawMessage `json:"Task"`
	Signature *string         `json:"Signature"`
}

type task struct {
	ID          string          `json:"Id"`
	Source      string          `json:"Source"`
	Verb        string          `json:"Verb"`
	Resource    string          `json:"Resource"`
	ContentType string          `json:"ContentType"`
	Version     string          `json:"Version"`
	Body        json.RawMessage `json:"Body"`
}

func (c *checker) parse(data []byte) (*Message, bool) {
	if len(data) > MaxMessage {
		c.envelope("", "the message is %d bytes; an EMG message is at most %d", len(data), MaxMessage)
		return nil, false
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		c.envelope("", "the message is not UTF-8 text")
		return nil, false
	}
	var env envelope
	if err := strictUnmarshal(data, &env); err != nil {
		c.envelope("", "not a JSON envelope {\"Task\": …, \"Signature\": …}: %s", jsonProblem(err))
		return nil, false
	}
	raw := bytes.TrimSpace(env.Task)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		c.envelope("Task", "missing: the envelope has no Task")
		return nil, false
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			c.envelope("Task", "a string that cannot be read: %s", jsonProblem(err))
			return nil, false
		}
		raw = bytes.TrimSpace([]byte(s))
		if len(raw) == 0 || raw[0] != '{' {
			c.envelope("Task", "a string that does not hold a JSON object")
			return nil, false
		}
	case raw[0] != '{':
		c.envelope("Task", "must be an object (or a JSON string holding one)")
		return nil, false
	}
	var t task
	if err := strictUnmarshal(raw, &t); err != nil {
		c.envelope("Task", "not valid JSON: %s", jsonProblem(err))
		return nil, false
	}
	c.id = strings.TrimSpace(t.ID)
	m := &Message{ID: c.id, Source: strings.TrimSpace(t.Source), Version: t.Version, Resource: t.Resource}

	switch {
	case c.id == "":
		c.add("Task.Id", "required: the message's unique id (a GUID)")
	case !guidRe.MatchString(c.id):
		c.add("Task.Id", "%q is not a GUID such as bf9f2707-d612-4d63-9958-4c8b1fcf3cc0", c.id)
	}
	switch {
	case m.Source == "":
		c.add("Task.Source", "required: the sender's id (a GUID)")
	case !guidRe.MatchString(m.Source):
		c.add("Task.Source", "%q is not a GUID", m.Source)
	}
	if t.Resource != "WorkVisit" {
		// Another resource's Body follows other rules: it is not read.
		c.envelope("Task.Resource", "%q: wvbatch takes WorkVisit messages only", t.Resource)
		return m, false
	}
	if t.Version != "1.0" {
		c.add("Task.Version", "%q: want \"1.0\"", t.Version)
	}
	if t.ContentType != "" && t.ContentType != "application/json" {
		c.add("Task.ContentType", "%q: want application/json", t.ContentType)
	}
	body := bytes.TrimSpace(t.Body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		c.envelope("Task.Body", "missing: the message has no Body")
		return m, false
	}
	if body[0] != '{' {
		c.envelope("Task.Body", "must be an object")
		return m, false
	}

	switch t.Verb {
	case "Create":
		m.Kind = KindCreate
		m.Create = c.create(body, m)
	case "Update":
		var probe struct {
			State *string `json:"State"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			c.envelope("Task.Body", "not valid JSON: %s", jsonProblem(err))
			return m, false
		}
		if probe.State != nil {
			m.Kind = KindCancel
			m.Cancel = c.cancel(body, *probe.State)
		} else {
			m.Kind = KindUpdate
			m.Update = c.update(body, m)
		}
	case "":
		c.envelope("Task.Verb", "required: Create or Update")
	default:
		c.envelope("Task.Verb", "%q: want Create or Update (Update with State \"Cancelled\" cancels)", t.Verb)
	}

	switch {
	case env.Signature == nil || strings.TrimSpace(*env.Signature) == "":
		m.Signature = "unsigned"
	default:
		if _, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*env.Signature)); err != nil {
			m.Signature = "not verified (and not base64); ignored"
		} else {
			m.Signature = "not verified; ignored"
		}
	}
	return m, true
}

// strictUnmarshal is json.Unmarshal that also refuses text after the value.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected text after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("unexpected text after the JSON value")
	}
	return nil
}

// jsonProblem says what is wrong with JSON, with the offset where known.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the value"
		}
		return fmt.Sprintf("%s is %s, not %s", field, te.Value, te.Type.String())
	}
	return err.Error()
}

// maxLen checks a string's length in characters.
func (c *checker) maxLen(field, s string, n int) bool {
	if l := utf8.RuneCountInString(s); l > n {
		c.add(field, "%d characters; at most %d", l, n)
		return false
	}
	return true
}

func (c *checker) email(field, s string) {
	if s == "" {
		return
	}
	if c.maxLen(field, s, MaxEmail) && !emailRe.MatchString(s) {
		c.add(field, "%q is not an email address", s)
	}
}

func (c *checker) phone(codeField, code, phoneField, phone string, required bool) {
	switch {
	case phone == "" && required:
		c.add(phoneField, "required")
	case phone != "" && !phoneRe.MatchString(phone):
		c.add(phoneField, "%q: 2 to 40 digits, spaces and . - ( ), optionally followed by x or ext and an extension", phone)
	}
	switch {
	case code == "" && (phone != "" || required):
		c.add(codeField, "required with a phone number, e.g. +31")
	case code != "" && !countryCodeRe.MatchString(code):
		c.add(codeField, "%q: a + and 1 to 6 digits, e.g. +31", code)
	}
}

func (c *checker) username(field, s string) {
	switch n := utf8.RuneCountInString(s); {
	case n < 8 || n > 100:
		c.add(field, "%q: a username has 8 to 100 characters", s)
	case strings.ContainsAny(s, " \t#?!$^*;<>[]{}%'\""):
		c.add(field, "%q: a username has no spaces and none of # ? ! $ ^ * ; < > [ ] { } %% ' \"", s)
	}
}

func (c *checker) time(field, s string, required bool) *time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			c.add(field, "required: an ISO 8601 date and time such as 2027-01-11T08:00:00Z")
		}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// EMG samples also write times without an offset; they are read as UTC.
		var err2 error
		if t, err2 = time.Parse("2006-01-02T15:04:05.999999999", s); err2 != nil {
			c.add(field, "%q is not an ISO 8601 date and time such as 2027-01-11T08:00:00Z", s)
			return nil
		}
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

func (c *checker) window(start, end *time.Time) {
	if start == nil || end == nil {
		return
	}
	switch {
	case !end.After(*start):
		c.add("Task.Body.ServiceDetails.EndDateTime", "%s is not after StartDateTime %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	case end.Sub(*start) > MaxVisit:
		c.add("Task.Body.ServiceDetails.EndDateTime", "the visit lasts %s; a work visit lasts at most two weeks (longer needs Security Access)", end.Sub(*start))
	}
}

func (c *checker) servicer(servicer, requestor string) (string, string) {
	servicer, requestor = strings.TrimSpace(servicer), strings.TrimSpace(requestor)
	switch {
	case servicer == "" && requestor == "":
		c.add("Task.Body.ServicerId", "required (or RequestorId): the order to change, e.g. 1-199912345789")
	case servicer != "" && !orderIDRe.MatchString(servicer):
		c.add("Task.Body.ServicerId", "%q is not an Equinix order id such as 1-199912345789", servicer)
	}
	c.maxLen("Task.Body.RequestorId", requestor, MaxReference)
	return servicer, requestor
}
