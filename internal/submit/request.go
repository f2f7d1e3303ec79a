package submit

import (
	"fmt"
	"strings"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/plan"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// Description limits of a work visit order.
const (
	MinDescription = 10
	MaxDescription = 4000
)

// Request builds the work visit request of one planned order. Visitor i of
// the request is visitor i of the order, so an error naming
// details.visitors[i] names the order's i-th roster row.
func Request(o *plan.Order, of roster.OrderFields) *equinix.WorkVisitRequest {
	req := &equinix.WorkVisitRequest{
		Description:         Description(o, of),
		CustomerReferenceID: o.Reference,
		Details: equinix.WorkVisitDetails{
			Cages:              []equinix.CageRef{{ID: o.Cage, AccountNumber: o.Account, CabinetID: o.Cabinet}},
			VisitStartDateTime: o.Start.UTC(),
			VisitEndDateTime:   o.End.UTC(),
			OpenCabinet:        o.OpenCabinet,
		},
	}
	if of.PurchaseOrder != "" {
		req.PurchaseOrder = &equinix.PurchaseOrder{Type: equinix.PurchaseOrderExisting, Number: of.PurchaseOrder}
	}
	if of.TechnicalContact != "" {
		req.Contacts = append(req.Contacts, equinix.Contact{
			Type: equinix.ContactTechnical, RegisteredUsers: []string{of.TechnicalContact},
			Availability: equinix.AvailabilityWorkHours, Timezone: o.Zone,
		})
	}
	if len(of.NotificationContacts) > 0 {
		req.Contacts = append(req.Contacts, equinix.Contact{
			Type: equinix.ContactNotification, RegisteredUsers: of.NotificationContacts,
		})
	}
	for _, v := range o.Visitors {
		req.Details.Visitors = append(req.Details.Visitors, visitor(&v))
	}
	return req
}

func visitor(v *roster.Visitor) equinix.Visitor {
	if v.Username != "" {
		return equinix.Visitor{RegisteredUsers: []string{v.Username}}
	}
	ev := equinix.Visitor{FirstName: v.FirstName, LastName: v.LastName, CompanyName: v.Company}
	if v.Email != "" {
		ev.Details = append(ev.Details, equinix.ContactDetail{Type: equinix.DetailEmail, Value: v.Email})
	}
	if v.MobilePhone != "" {
		ev.Details = append(ev.Details, equinix.ContactDetail{Type: equinix.DetailMobile, Value: v.MobileCountryCode + " " + v.MobilePhone})
	}
	return ev
}

// Description is the order's description: the roster's, or one that says
// what the visit is, always within Equinix's 10 to 4000 characters.
func Description(o *plan.Order, of roster.OrderFields) string {
	d := strings.TrimSpace(of.Description)
	if d == "" {
		place := o.Cage
		if o.Cabinet != "" {
			place = o.Cabinet
		}
		d = fmt.Sprintf("Work visit of %d visitor(s) to %s", o.Count, place)
	}
	if len(d) < MinDescription {
		d += " (work visit)"
	}
	if r := []rune(d); len(r) > MaxDescription {
		d = string(r[:MaxDescription])
	}
	return d
}

// VisitorKey identifies a visitor of an order at one place in the order's
// window, to find visitors that an earlier run already ordered.
func VisitorKey(o *plan.Order, v *roster.Visitor) string {
	who := "n:" + strings.ToLower(v.FirstName+"\x1f"+v.LastName+"\x1f"+v.Company)
	if v.Username != "" {
		who = "u:" + strings.ToLower(v.Username)
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d", who, o.Cage, o.Cabinet, o.Start.Unix(), o.End.Unix())
}
