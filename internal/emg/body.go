package emg

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

type attachmentBody struct {
	Name string `json:"Name"`
	URL  string `json:"Url"`
	ID   string `json:"Id"`
}

type visitorBody struct {
	UserName               string `json:"UserName"`
	FirstName              string `json:"FirstName"`
	LastName               string `json:"LastName"`
	CompanyName            string `json:"CompanyName"`
	Email                  string `json:"Email"`
	MobilePhoneCountryCode string `json:"MobilePhoneCountryCode"`
	MobilePhone            string `json:"MobilePhone"`
}

type contactBody struct {
	ContactType            string `json:"ContactType"`
	Name                   string `json:"Name"`
	Email                  string `json:"Email"`
	WorkPhoneCountryCode   string `json:"WorkPhoneCountryCode"`
	WorkPhone              string `json:"WorkPhone"`
	WorkPhonePrefToCall    string `json:"WorkPhonePrefToCall"`
	WorkPhoneTimeZone      string `json:"WorkPhoneTimeZone"`
	MobilePhoneCountryCode string `json:"MobilePhoneCountryCode"`
	MobilePhone            string `json:"MobilePhone"`
	MobilePhonePrefToCall  string `json:"MobilePhonePrefToCall"`
	MobilePhoneTimeZone    string `json:"MobilePhoneTimeZone"`
}

type serviceDetails struct {
	Visitors            []visitorBody `json:"Visitors"`
	StartDateTime       string        `json:"StartDateTime"`
	EndDateTime         string        `json:"EndDateTime"`
	OpenCabinet         *bool         `json:"OpenCabinet"`
	SupervisionRequired *bool         `json:"SupervisionRequired"`
}

type createBody struct {
	RequestorID        *string          `json:"RequestorId"`
	RequestorIDUnique  *bool            `json:"RequestorIdUnique"`
	Location           []string         `json:"Location"`
	CustomerContact    string           `json:"CustomerContact"`
	Description        string           `json:"Description"`
	Attachments        []attachmentBody `json:"Attachments"`
	AdditionalContacts []contactBody    `json:"AdditionalContacts"`
	ServiceDetails     *serviceDetails  `json:"ServiceDetails"`
}

type updateBody struct {
	State          *string          `json:"State"`
	ServicerID     string           `json:"ServicerId"`
	RequestorID    string           `json:"RequestorId"`
	Description    *string          `json:"Description"`
	Attachments    []attachmentBody `json:"Attachments"`
	ServiceDetails *serviceDetails  `json:"ServiceDetails"`
}

// decodeBody reads a Body; a value of the wrong type is a field error, not
// an unreadable message.
func (c *checker) decodeBody(body []byte, v any) bool {
	err := json.Unmarshal(body, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &te):
		field := "Task.Body"
		if te.Field != "" {
			field += "." + te.Field
		}
		c.add(field, "%s where %s is expected", te.Value, kindOf(te.Type.Kind().String()))
		return false
	}
	c.envelope("Task.Body", "not valid JSON: %s", jsonProblem(err))
	return false
}

func kindOf(k string) string {
	switch k {
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "struct", "ptr":
		return "an object"
	}
	return "a " + k
}

func (c *checker) create(body []byte, m *Message) *Create {
	var b createBody
	if !c.decodeBody(body, &b) {
		return nil
	}
	const at = "Task.Body."
	cr := &Create{CustomerContact: strings.TrimSpace(b.CustomerContact), Description: strings.TrimSpace(b.Description)}
	if b.RequestorID != nil {
		cr.RequestorID = strings.TrimSpace(*b.RequestorID)
	}
	switch {
	case b.RequestorIDUnique == nil:
		c.add(at+"RequestorIdUnique", "required: true or false")
	default:
		cr.RequestorIDUnique = *b.RequestorIDUnique
		if cr.RequestorIDUnique && cr.RequestorID == "" {
			c.add(at+"RequestorId", "required when RequestorIdUnique is true")
		}
	}
	c.maxLen(at+"RequestorId", cr.RequestorID, MaxReference)

	if len(b.Location) == 0 {
		c.add(at+"Location", "required: the cages and cabinets, e.g. [\"AM1:01:000111\", \"AM1:01:000112:0201\"]")
	}
	ibx := ""
	seen := map[string]bool{}
	for i, loc := range b.Location {
		f := fmt.Sprintf("%sLocation[%d]", at, i)
		loc = strings.ToUpper(strings.TrimSpace(loc))
		sm := locationRe.FindStringSubmatch(loc)
		switch {
		case sm == nil:
			c.add(f, "%q is not a cage (IBX:FLOOR:CAGE, e.g. LD8:01:00AB12) or a cabinet (cage:CABINET, e.g. LD8:01:00AB12:0501)", loc)
			continue
		case ibx == "":
			ibx = sm[1]
		case sm[1] != ibx:
			c.add(f, "%q is in %s, but %s is in %s: all cages and cabinets of a work visit are in one IBX", loc, sm[1], b.Location[0], ibx)
		}
		if seen[loc] {
			c.add(f, "%q is listed twice", loc)
		}
		seen[loc] = true
		cr.Location = append(cr.Location, loc)
	}

	switch {
	case cr.CustomerContact == "":
		c.add(at+"CustomerContact", "required: the username (or email) of a user registered with the Equinix Customer Portal")
	case strings.Contains(cr.CustomerContact, "@") && !emailRe.MatchString(cr.CustomerContact):
		c.add(at+"CustomerContact", "%q is not an email address", cr.CustomerContact)
	default:
		c.username(at+"CustomerContact", cr.CustomerContact)
	}
	c.maxLen(at+"Description", cr.Description, 4000)

	cr.Attachments = c.attachments(b.Attachments, m)
	for i, ct := range b.AdditionalContacts {
		cr.AdditionalContacts = append(cr.AdditionalContacts, c.contact(fmt.Sprintf("%sAdditionalContacts[%d]", at, i), ct))
	}
	if len(b.AdditionalContacts) > 1 {
		c.add(at+"AdditionalContacts", "%d contacts; a work visit has one technical contact", len(b.AdditionalContacts))
	}

	sd := b.ServiceDetails
	if sd == nil {
		c.add(at+"ServiceDetails", "required: Visitors, StartDateTime and EndDateTime")
		return cr
	}
	const sdAt = at + "ServiceDetails."
	switch n := len(sd.Visitors); {
	case n == 0:
		c.add(sdAt+"Visitors", "required: at least one visitor")
	case n > MaxVisitors:
		c.add(sdAt+"Visitors", "%d visitors; a work visit takes at most %d (send the others in another message)", n, MaxVisitors)
	}
	for i, v := range sd.Visitors {
		cr.Visitors = append(cr.Visitors, c.visitor(fmt.Sprintf("%sVisitors[%d]", sdAt, i), v))
	}
	start := c.time(sdAt+"StartDateTime", sd.StartDateTime, true)
	end := c.time(sdAt+"EndDateTime", sd.EndDateTime, true)
	c.window(start, end)
	if start != nil && end != nil {
		cr.Start, cr.End = *start, *end
	}
	if sd.OpenCabinet != nil {
		cr.OpenCabinet = *sd.OpenCabinet
	}
	if sd.SupervisionRequired != nil && *sd.SupervisionRequired {
		cr.Supervision = true
		m.Notes = append(m.Notes, "SupervisionRequired has no REST v2 field: it is written into the order's description")
	}
	return cr
}

func (c *checker) attachments(as []attachmentBody, m *Message) []Attachment {
	var out []Attachment
	if len(as) > MaxAttachments {
		c.add("Task.Body.Attachments", "%d attachments; at most %d", len(as), MaxAttachments)
	}
	for i, a := range as {
		f := fmt.Sprintf("Task.Body.Attachments[%d]", i)
		a.Name, a.URL, a.ID = strings.TrimSpace(a.Name), strings.TrimSpace(a.URL), strings.TrimSpace(a.ID)
		switch {
		case a.Name == "":
			c.add(f+".Name", "required")
		case a.URL == "" && a.ID == "":
			c.add(f, "needs a Url or the Id of an uploaded file")
		case a.ID != "" && !guidRe.MatchString(a.ID):
			c.add(f+".Id", "%q is not the id (a UUID) of an uploaded file", a.ID)
		case a.ID == "":
			m.Notes = append(m.Notes, fmt.Sprintf("attachment %q is given by Url, which REST v2 cannot take: upload it (POST /v1/attachments/file) and add it to the order", a.Name))
		}
		out = append(out, Attachment(a))
	}
	return out
}

func (c *checker) visitor(f string, v visitorBody) Visitor {
	out := Visitor{
		UserName: strings.TrimSpace(v.UserName), FirstName: strings.TrimSpace(v.FirstName), LastName: strings.TrimSpace(v.LastName),
		CompanyName: strings.TrimSpace(v.CompanyName), Email: strings.TrimSpace(v.Email),
		MobilePhoneCountryCode: strings.TrimSpace(v.MobilePhoneCountryCode), MobilePhone: strings.TrimSpace(v.MobilePhone),
	}
	if out.UserName != "" {
		c.username(f+".UserName", out.UserName)
		return out
	}
	for _, p := range []struct{ field, v string }{{"FirstName", out.FirstName}, {"LastName", out.LastName}, {"CompanyName", out.CompanyName}} {
		switch {
		case p.v == "":
			c.add(f+"."+p.field, "required when there is no UserName")
		case strings.ContainsAny(p.v, "<>{}[]\"\\;") && p.field != "CompanyName":
			c.add(f+"."+p.field, "%q: a name as on the visitor's photo ID, without symbols", p.v)
		default:
			c.maxLen(f+"."+p.field, p.v, 100)
		}
	}
	c.email(f+".Email", out.Email)
	c.phone(f+".MobilePhoneCountryCode", out.MobilePhoneCountryCode, f+".MobilePhone", out.MobilePhone, false)
	return out
}

func (c *checker) contact(f string, ct contactBody) Contact {
	out := Contact{
		Name: strings.TrimSpace(ct.Name), Email: strings.TrimSpace(ct.Email),
		WorkPhoneCountryCode: strings.TrimSpace(ct.WorkPhoneCountryCode), WorkPhone: strings.TrimSpace(ct.WorkPhone),
		MobilePhoneCountry: strings.TrimSpace(ct.MobilePhoneCountryCode), MobilePhone: strings.TrimSpace(ct.MobilePhone),
		TimeZone: strings.TrimSpace(cmp.Or(ct.WorkPhoneTimeZone, ct.MobilePhoneTimeZone)),
	}
	if t := strings.ToUpper(strings.TrimSpace(ct.ContactType)); t != "TECHNICAL" && t != "TECHNIICAL" {
		c.add(f+".ContactType", "%q: want TECHNICAL", ct.ContactType)
	}
	switch {
	case out.Name == "":
		c.add(f+".Name", "required: first and last name")
	case !contactNameRe.MatchString(out.Name):
		c.add(f+".Name", "%q: at most 100 characters besides spaces and dots", out.Name)
	}
	if out.Email == "" {
		c.add(f+".Email", "required")
	}
	c.email(f+".Email", out.Email)
	c.phone(f+".WorkPhoneCountryCode", out.WorkPhoneCountryCode, f+".WorkPhone", out.WorkPhone, true)
	c.phone(f+".MobilePhoneCountryCode", out.MobilePhoneCountry, f+".MobilePhone", out.MobilePhone, false)
	for _, p := range []struct{ field, v string }{{"WorkPhonePrefToCall", ct.WorkPhonePrefToCall}, {"MobilePhonePrefToCall", ct.MobilePhonePrefToCall}} {
		switch strings.TrimSpace(p.v) {
		case "", "NEVER", "ANYTIME", "MY_BUSINESS_HOURS", "IBX_BUSINESS_HOURS":
		default:
			c.add(f+"."+p.field, "%q: want NEVER, ANYTIME, MY_BUSINESS_HOURS or IBX_BUSINESS_HOURS", p.v)
		}
	}
	if out.TimeZone != "" {
		if _, err := time.LoadLocation(out.TimeZone); err != nil {
			c.add(f+".WorkPhoneTimeZone", "%q is not a time zone such as Europe/Amsterdam", out.TimeZone)
		}
	}
	return out
}

func (c *checker) update(body []byte, m *Message) *Update {
	var b updateBody
	if !c.decodeBody(body, &b) {
		return nil
	}
	u := &Update{}
	u.ServicerID, u.RequestorID = c.servicer(b.ServicerID, b.RequestorID)
	c.description(b.Description)
	if b.Description != nil {
		u.Description = strings.TrimSpace(*b.Description)
		m.Notes = append(m.Notes, "Description cannot be changed through REST v2 (it goes in an order note): it is not sent")
	}
	c.attachments(b.Attachments, m)
	if len(b.Attachments) > 0 {
		m.Notes = append(m.Notes, "attachments cannot be added by a REST v2 update: they are not sent")
	}
	if sd := b.ServiceDetails; sd != nil {
		const sdAt = "Task.Body.ServiceDetails."
		if len(sd.Visitors) > 0 {
			c.add(sdAt+"Visitors", "the visitors of a placed work visit cannot be changed (REST v2 refuses it): cancel the order and send a Create with the new visitors")
		}
		u.Start = c.time(sdAt+"StartDateTime", sd.StartDateTime, false)
		u.End = c.time(sdAt+"EndDateTime", sd.EndDateTime, false)
		c.window(u.Start, u.End)
		u.OpenCabinet = sd.OpenCabinet
		if sd.SupervisionRequired != nil {
			m.Notes = append(m.Notes, "SupervisionRequired cannot be changed through REST v2: it is not sent")
		}
	}
	if u.Start == nil && u.End == nil && u.OpenCabinet == nil && len(c.errs) == 0 {
		c.add("Task.Body.ServiceDetails", "the update changes nothing REST v2 can change (StartDateTime, EndDateTime, OpenCabinet)")
	}
	return u
}

func (c *checker) description(d *string) {
	switch {
	case d == nil || strings.TrimSpace(*d) == "":
		c.add("Task.Body.Description", "required")
	default:
		c.maxLen("Task.Body.Description", strings.TrimSpace(*d), MaxUpdateDescription)
	}
}

func (c *checker) cancel(body []byte, state string) *Cancel {
	var b updateBody
	if !c.decodeBody(body, &b) {
		return nil
	}
	if state != "Cancelled" {
		c.add("Task.Body.State", "%q: the only State a message may give is \"Cancelled\" (to cancel the order)", state)
	}
	x := &Cancel{}
	x.ServicerID, x.RequestorID = c.servicer(b.ServicerID, b.RequestorID)
	c.description(b.Description)
	if b.Description != nil {
		x.Description = strings.TrimSpace(*b.Description)
		if n := len([]rune(x.Description)); n > 0 && n < 5 {
			c.add("Task.Body.Description", "%q: the reason for cancelling must be at least 5 characters", x.Description)
		}
	}
	if b.ServiceDetails != nil {
		c.add("Task.Body.ServiceDetails", "a cancel takes no ServiceDetails")
	}
	return x
}
