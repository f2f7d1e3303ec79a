package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits Equinix states for work visits.
const (
	MaxVisitors    = 50
	MaxVisitLength = 14 * 24 * time.Hour
	maxNameLength  = 100
	maxEmailLength = 100
)

var (
	// utcRe is an ISO-8601 instant in UTC with a Z, optionally with fractions.
	utcRe = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z$`)
	// phoneRe is the EMG schema's phone rule, with the leading "+country
	// code" that v2 contact values carry (seed 001: "+81-111-111-1111").
	phoneRe = regexp.MustCompile(`^(?:\+[0-9]{1,6}[ \-]?)?[0-9.\-() ]{2,40}(?:(?:x|ext)[0-9.\-() ]{1,10})?$`)
	// emailRe is the EMG schema's email rule.
	emailRe = regexp.MustCompile(`^(([^<>()\[\]\.,;:\s@"]+(\.[^<>()\[\]\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$`)
	uuidRe  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	tzRe    = regexp.MustCompile(`^[A-Za-z_]+(?:/[A-Za-z0-9_\-+]+){0,2}$`)
)

// The create body, decoded by the sandbox's own types. Pointers tell a
// missing property from an empty one.
type createBody struct {
	Description         *string            `json:"description"`
	CustomerReferenceID *string            `json:"customerReferenceId"`
	PurchaseOrder       *purchaseOrderBody `json:"purchaseOrder"`
	Attachments         []attachmentBody   `json:"attachments"`
	Contacts            []contactBody      `json:"contacts"`
	Details             *detailsBody       `json:"details"`
}

type purchaseOrderBody struct {
	Type string `json:"type"`
}

type attachmentBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type contactBody struct {
	Type            *string      `json:"type"`
	RegisteredUsers []string     `json:"registeredUsers"`
	FirstName       *string      `json:"firstName"`
	LastName        *string      `json:"lastName"`
	Details         []detailBody `json:"details"`
	Availability    string       `json:"availability"`
	Timezone        string       `json:"timezone"`
}

type detailBody struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type cageBody struct {
	ID            string `json:"id"`
	AccountNumber string `json:"accountNumber"`
	CabinetID     string `json:"cabinetId"`
}

type detailsBody struct {
	Cages              []cageBody    `json:"cages"`
	VisitStartDateTime *string       `json:"visitStartDateTime"`
	VisitEndDateTime   *string       `json:"visitEndDateTime"`
	OpenCabinet        *bool         `json:"openCabinet"`
	Visitors           []visitorBody `json:"visitors"`
}

type visitorBody struct {
	RegisteredUsers []string     `json:"registeredUsers"`
	FirstName       *string      `json:"firstName"`
	LastName        *string      `json:"lastName"`
	CompanyName     *string      `json:"companyName"`
	Details         []detailBody `json:"details"`
}

type patchBody struct {
	Contacts []contactBody `json:"contacts"`
	Details  *struct {
		VisitStartDateTime *string `json:"visitStartDateTime"`
		VisitEndDateTime   *string `json:"visitEndDateTime"`
		OpenCabinet        *bool   `json:"openCabinet"`
	} `json:"details"`
}

// problems collects the violations of one request.
type problems []problem

func (p *problems) add(prop, reason string, value any) {
	*p = append(*p, problem{Property: prop, Reason: reason, Value: value})
}

func (p *problems) required(prop string) { p.add(prop, prop+" is required", nil) }

// decodeBody reads body into v after checking it against sh; the problems
// say what is malformed, unknown or of the wrong type.
func decodeBody(body []byte, sh *shape, unknown string, v any) problems {
	var generic any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&generic); err != nil {
		return problems{{Property: "", Reason: "the request body is not valid JSON: " + err.Error()}}
	}
	if dec.More() {
		return problems{{Property: "", Reason: "the request body holds more than one JSON value"}}
	}
	if _, ok := generic.(map[string]any); !ok {
		return problems{{Property: "", Reason: "the request body must be a JSON object"}}
	}
	var out []problem
	sh.check(generic, "", unknown, &out)
	if len(out) > 0 {
		return out
	}
	if err := json.Unmarshal(body, v); err != nil {
		return problems{{Property: "", Reason: "the request body cannot be read: " + err.Error()}}
	}
	return nil
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// parseUTC parses an instant such as 2019-08-24T14:15:22Z.
func parseUTC(s string) (time.Time, bool) {
	if !utcRe.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// checkWindow applies the visit window rules to start and end. checkPast
// says which of them must not lie before now.
func checkWindow(p *problems, start, end time.Time, startPast, endPast bool, now time.Time) {
	const sp, ep = "details.visitStartDateTime", "details.visitEndDateTime"
	if startPast && start.Before(now) {
		p.add(sp, fmt.Sprintf("%s must not be in the past (now is %s)", sp, now.UTC().Format(time.RFC3339)), start.UTC().Format(time.RFC3339))
	}
	switch {
	case !end.After(start):
		p.add(ep, ep+" must be after "+sp, end.UTC().Format(time.RFC3339))
	case end.Sub(start) > MaxVisitLength:
		p.add(ep, fmt.Sprintf("a work visit lasts at most 14 days; %s is %s after %s", ep, end.Sub(start), sp), end.UTC().Format(time.RFC3339))
	case endPast && end.Before(now):
		p.add(ep, ep+" must not be in the past", end.UTC().Format(time.RFC3339))
	}
}

// checkDetail checks one {type, value} of a visitor or contact.
func checkDetail(p *problems, at string, d detailBody, types ...string) {
	ok := false
	for _, t := range types {
		ok = ok || d.Type == t
	}
	switch {
	case d.Type == "":
		p.required(at + ".type")
	case !ok:
		p.add(at+".type", fmt.Sprintf("%s.type must be one of %s", at, strings.Join(types, ", ")), d.Type)
	}
	v := strings.TrimSpace(d.Value)
	switch {
	case v == "":
		p.required(at + ".value")
	case d.Type == "EMAIL" && runeLen(v) > maxEmailLength:
		p.add(at+".value", fmt.Sprintf("%s.value must be at most %d characters", at, maxEmailLength), d.Value)
	case d.Type == "EMAIL" && !emailRe.MatchString(v):
		p.add(at+".value", at+".value is not a valid email address", d.Value)
	case (d.Type == "MOBILE" || d.Type == "PHONE") && !phoneRe.MatchString(v):
		p.add(at+".value", at+".value is not a valid phone number", d.Value)
	}
}

// checkName checks a required name property.
func checkName(p *problems, at string, v *string) {
	switch {
	case v == nil || strings.TrimSpace(*v) == "":
		p.required(at)
	case runeLen(*v) > maxNameLength:
		p.add(at, fmt.Sprintf("%s must be at most %d characters", at, maxNameLength), *v)
	}
}

// validateCreate applies the documented rules to a create body and returns
// every violation (400 EQ-2016011).
func validateCreate(b *createBody, now time.Time) problems {
	var p problems
	switch {
	case b.Description == nil || strings.TrimSpace(*b.Description) == "":
		p.required("description")
	case runeLen(*b.Description) < 10 || runeLen(*b.Description) > 4000:
		p.add("description", fmt.Sprintf("description must be 10 to 4000 characters, not %d", runeLen(*b.Description)), nil)
	}
	if r := b.CustomerReferenceID; r != nil && (runeLen(*r) < 1 || runeLen(*r) > 40) {
		p.add("customerReferenceId", fmt.Sprintf("customerReferenceId must be 1 to 40 characters, not %d", runeLen(*r)), *r)
	}
	if po := b.PurchaseOrder; po != nil {
		switch po.Type {
		case "":
			p.required("purchaseOrder.type")
		case "EXEMPTED", "NEW", "EXISTING":
		default:
			p.add("purchaseOrder.type", "purchaseOrder.type must be EXEMPTED, NEW or EXISTING", po.Type)
		}
	}
	if len(b.Attachments) > 5 {
		p.add("attachments", fmt.Sprintf("at most 5 attachments, not %d", len(b.Attachments)), nil)
	}
	for i, a := range b.Attachments {
		at := fmt.Sprintf("attachments[%d]", i)
		if !uuidRe.MatchString(a.ID) {
			p.add(at+".id", at+".id must be the UUID of an uploaded attachment", a.ID)
		}
	}
	validateContacts(&p, b.Contacts)

	d := b.Details
	if d == nil {
		p.required("details")
		return p
	}
	if len(d.Cages) == 0 {
		p.required("details.cages")
	}
	ibx := ""
	for i, c := range d.Cages {
		at := fmt.Sprintf("details.cages[%d]", i)
		cibx := cageIBX(c.ID)
		switch {
		case c.ID == "":
			p.required(at + ".id")
		case cibx == "":
			p.add(at+".id", at+".id is not a cage id (IBX:FLOOR:CAGE, e.g. AM1:01:000111)", c.ID)
		case ibx == "":
			ibx = cibx
		case cibx != ibx:
			p.add(at+".id", fmt.Sprintf("all cages of a work visit must be in one IBX; %s is not in %s", c.ID, ibx), c.ID)
		}
		if c.CabinetID != "" && cibx != "" && !cabinetInCage(c.CabinetID, c.ID) {
			p.add(at+".cabinetId", fmt.Sprintf("%s.cabinetId %s is not a cabinet of cage %s (expected %s:NNNN)", at, c.CabinetID, c.ID, c.ID), c.CabinetID)
		}
		if c.AccountNumber != "" && !accountRe.MatchString(c.AccountNumber) {
			p.add(at+".accountNumber", at+".accountNumber must be an account number (digits)", c.AccountNumber)
		}
	}

	start, okStart := parseWindowEnd(&p, "details.visitStartDateTime", d.VisitStartDateTime)
	end, okEnd := parseWindowEnd(&p, "details.visitEndDateTime", d.VisitEndDateTime)
	if okStart && okEnd {
		checkWindow(&p, start, end, true, false, now)
	}

	if len(d.Visitors) == 0 {
		p.required("details.visitors")
	}
	people := 0
	for i, v := range d.Visitors {
		at := fmt.Sprintf("details.visitors[%d]", i)
		named := v.FirstName != nil || v.LastName != nil || v.CompanyName != nil || len(v.Details) > 0
		if len(v.RegisteredUsers) > 0 {
			people += len(v.RegisteredUsers)
			if named {
				p.add(at+".registeredUsers", at+" gives registeredUsers and a name; a visitor is one or the other", nil)
			}
			for j, u := range v.RegisteredUsers {
				if strings.TrimSpace(u) == "" {
					p.required(fmt.Sprintf("%s.registeredUsers[%d]", at, j))
				}
			}
			continue
		}
		people++
		checkName(&p, at+".firstName", v.FirstName)
		checkName(&p, at+".lastName", v.LastName)
		checkName(&p, at+".companyName", v.CompanyName)
		for j, dt := range v.Details {
			checkDetail(&p, fmt.Sprintf("%s.details[%d]", at, j), dt, "MOBILE", "EMAIL")
		}
	}
	if people > MaxVisitors {
		p.add("details.visitors", fmt.Sprintf("at most %d visitors per work visit, not %d", MaxVisitors, people), nil)
	}
	return p
}

// parseWindowEnd reads a required visit start or end.
func parseWindowEnd(p *problems, at string, v *string) (time.Time, bool) {
	if v == nil || *v == "" {
		p.required(at)
		return time.Time{}, false
	}
	t, ok := parseUTC(*v)
	if !ok {
		p.add(at, at+" must be a UTC date and time such as 2019-08-24T14:15:22Z", *v)
	}
	return t, ok
}

// validateContacts checks a create's contacts.
func validateContacts(p *problems, cs []contactBody) {
	technical := 0
	for i, c := range cs {
		at := fmt.Sprintf("contacts[%d]", i)
		typ := ""
		if c.Type != nil {
			typ = *c.Type
		}
		switch typ {
		case "":
			p.required(at + ".type")
		case "TECHNICAL":
			technical++
			if technical > 1 {
				p.add(at+".type", "there can be only one TECHNICAL contact", typ)
			}
		case "NOTIFICATION":
		default:
			p.add(at+".type", at+".type must be TECHNICAL or NOTIFICATION", typ)
		}
		named := c.FirstName != nil || c.LastName != nil || len(c.Details) > 0
		switch {
		case len(c.RegisteredUsers) > 0 && named:
			p.add(at+".registeredUsers", at+" gives registeredUsers and a name; a contact is one or the other", nil)
		case len(c.RegisteredUsers) > 0:
			if typ == "TECHNICAL" && len(c.RegisteredUsers) > 1 {
				p.add(at+".registeredUsers", "a TECHNICAL contact names one user", c.RegisteredUsers)
			}
			for j, u := range c.RegisteredUsers {
				if strings.TrimSpace(u) == "" {
					p.required(fmt.Sprintf("%s.registeredUsers[%d]", at, j))
				}
			}
		case typ == "NOTIFICATION":
			p.required(at + ".registeredUsers")
		default:
			checkName(p, at+".firstName", c.FirstName)
			checkName(p, at+".lastName", c.LastName)
			if len(c.Details) == 0 {
				p.required(at + ".details")
			}
			for j, dt := range c.Details {
				checkDetail(p, fmt.Sprintf("%s.details[%d]", at, j), dt, "PHONE", "MOBILE", "EMAIL")
			}
		}
		switch c.Availability {
		case "", "WORK_HOURS", "ANYTIME":
		default:
			p.add(at+".availability", at+".availability must be WORK_HOURS or ANYTIME", c.Availability)
		}
		if c.Timezone != "" && !tzRe.MatchString(c.Timezone) {
			p.add(at+".timezone", at+".timezone must be an IANA time zone such as Europe/Amsterdam", c.Timezone)
		}
	}
}
