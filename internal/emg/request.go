package emg

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// Reference is the customerReferenceId of a Create's order: RequestorId
// itself when the message says it is unique; else RequestorId with a suffix
// naming the message, or EMG- and the message's id; at most 40 characters,
// and distinct for distinct messages, so that an order whose answer was lost
// can be found again by its reference.
func (m *Message) Reference() string {
	short := strings.ToUpper(strings.ReplaceAll(m.ID, "-", ""))
	if len(short) > 16 {
		short = short[:16]
	}
	if m.Create == nil {
		return ""
	}
	id := m.Create.RequestorID
	switch {
	case id != "" && m.Create.RequestorIDUnique:
		return id
	case id != "":
		suffix := short
		if len(suffix) > 8 {
			suffix = suffix[:8]
		}
		r := []rune(id)
		if len(r) > MaxReference-len(suffix)-1 {
			r = r[:MaxReference-len(suffix)-1]
		}
		return string(r) + "-" + suffix
	}
	return "EMG-" + short
}

// IBX is the IBX of a Create's locations.
func (c *Create) IBX() string {
	if len(c.Location) == 0 {
		return ""
	}
	ibx, _, _ := strings.Cut(c.Location[0], ":")
	return ibx
}

// Cages returns the REST v2 cages of a Create: a location that is a cage is
// the whole cage, one that is a cabinet is that cabinet of its cage.
func (c *Create) Cages() []equinix.CageRef {
	var out []equinix.CageRef
	for _, loc := range c.Location {
		parts := strings.Split(loc, ":")
		if len(parts) == 4 {
			out = append(out, equinix.CageRef{ID: strings.Join(parts[:3], ":"), CabinetID: loc})
			continue
		}
		out = append(out, equinix.CageRef{ID: loc})
	}
	return out
}

// Request is the REST v2 work visit request of a Create message, ordered
// under reference.
func (m *Message) Request(reference string) *equinix.WorkVisitRequest {
	c := m.Create
	if c == nil {
		return nil
	}
	zone, _ := roster.MetroZone(c.IBX())
	req := &equinix.WorkVisitRequest{
		Description:         c.description(m.ID),
		CustomerReferenceID: reference,
		Details: equinix.WorkVisitDetails{
			Cages:              c.Cages(),
			VisitStartDateTime: c.Start.UTC(),
			VisitEndDateTime:   c.End.UTC(),
			OpenCabinet:        c.OpenCabinet,
		},
	}
	for _, a := range c.Attachments {
		if a.ID != "" {
			req.Attachments = append(req.Attachments, equinix.Attachment{ID: a.ID, Name: a.Name})
		}
	}
	if len(c.AdditionalContacts) > 0 {
		ct := c.AdditionalContacts[0]
		first, last := splitName(ct.Name)
		tech := equinix.Contact{Type: equinix.ContactTechnical, FirstName: first, LastName: last,
			Availability: equinix.AvailabilityAnytime, Timezone: cmp.Or(ct.TimeZone, zone)}
		if ct.Email != "" {
			tech.Details = append(tech.Details, equinix.ContactDetail{Type: equinix.DetailEmail, Value: ct.Email})
		}
		if ct.WorkPhone != "" {
			tech.Details = append(tech.Details, equinix.ContactDetail{Type: equinix.DetailPhone, Value: ct.WorkPhoneCountryCode + " " + ct.WorkPhone})
		}
		if ct.MobilePhone != "" {
			tech.Details = append(tech.Details, equinix.ContactDetail{Type: equinix.DetailMobile, Value: ct.MobilePhoneCountry + " " + ct.MobilePhone})
		}
		req.Contacts = append(req.Contacts, tech)
	} else if c.CustomerContact != "" {
		req.Contacts = append(req.Contacts, equinix.Contact{Type: equinix.ContactTechnical, RegisteredUsers: []string{c.CustomerContact},
			Availability: equinix.AvailabilityWorkHours, Timezone: zone})
	}
	if c.CustomerContact != "" {
		req.Contacts = append(req.Contacts, equinix.Contact{Type: equinix.ContactNotification, RegisteredUsers: []string{c.CustomerContact}})
	}
	for _, v := range c.Visitors {
		if v.UserName != "" {
			req.Details.Visitors = append(req.Details.Visitors, equinix.Visitor{RegisteredUsers: []string{v.UserName}})
			continue
		}
		ev := equinix.Visitor{FirstName: v.FirstName, LastName: v.LastName, CompanyName: v.CompanyName}
		if v.Email != "" {
			ev.Details = append(ev.Details, equinix.ContactDetail{Type: equinix.DetailEmail, Value: v.Email})
		}
		if v.MobilePhone != "" {
			ev.Details = append(ev.Details, equinix.ContactDetail{Type: equinix.DetailMobile, Value: v.MobilePhoneCountryCode + " " + v.MobilePhone})
		}
		req.Details.Visitors = append(req.Details.Visitors, ev)
	}
	return req
}

// description is the order's description, within REST v2's 10 to 4000
// characters, with what REST v2 has no field for.
func (c *Create) description(id string) string {
	d := c.Description
	if d == "" {
		d = fmt.Sprintf("Work visit of %d visitor(s) to %s (EMG message %s)", len(c.Visitors), strings.Join(c.Location, ", "), id)
	}
	if c.Supervision {
		d += " | Supervision required: Equinix staff to provide additional supervision, assistance or access."
	}
	if len([]rune(d)) < 10 {
		d += " (work visit)"
	}
	if r := []rune(d); len(r) > 4000 {
		d = string(r[:4000])
	}
	return d
}

func splitName(s string) (first, last string) {
	f := strings.Fields(s)
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], f[0]
	}
	return strings.Join(f[:len(f)-1], " "), f[len(f)-1]
}

// Update is the REST v2 update of an Update message.
func (u *Update) Request() *equinix.WorkVisitUpdate {
	return &equinix.WorkVisitUpdate{VisitStartDateTime: u.Start, VisitEndDateTime: u.End, OpenCabinet: u.OpenCabinet}
}

// Reason is the cancel reason of a Cancel message: its Description, within
// REST v2's 5 to 4000 characters.
func (x *Cancel) Reason() string {
	r := []rune(strings.TrimSpace(x.Description))
	if len(r) > 4000 {
		r = r[:4000]
	}
	return string(r)
}
