package equinix

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimeLayout is how the API writes instants: UTC, whole seconds.
const TimeLayout = "2006-01-02T15:04:05Z"

// Values of Contact.Type.
const (
	ContactTechnical    = "TECHNICAL"
	ContactNotification = "NOTIFICATION"
)

// Values of Contact.Availability.
const (
	AvailabilityWorkHours = "WORK_HOURS"
	AvailabilityAnytime   = "ANYTIME"
)

// Values of ContactDetail.Type.
const (
	DetailMobile = "MOBILE"
	DetailEmail  = "EMAIL"
	DetailPhone  = "PHONE" // contacts only, not visitors
)

// Values of PurchaseOrder.Type.
const (
	PurchaseOrderExempted = "EXEMPTED"
	PurchaseOrderNew      = "NEW"
	PurchaseOrderExisting = "EXISTING"
)

// WorkVisitRequest is the body of a work visit order
// (POST /colocations/v2/orders/workVisits). Empty optional fields are left
// out.
type WorkVisitRequest struct {
	Description         string           `json:"description,omitempty"`         // 10..4000 characters
	CustomerReferenceID string           `json:"customerReferenceId,omitempty"` // 1..40 characters
	PurchaseOrder       *PurchaseOrder   `json:"purchaseOrder,omitempty"`
	Attachments         []Attachment     `json:"attachments,omitempty"` // ≤5
	Contacts            []Contact        `json:"contacts,omitempty"`
	Details             WorkVisitDetails `json:"details"`
}

// PurchaseOrder is the purchase order a work visit is charged to.
type PurchaseOrder struct {
	Type         string `json:"type"` // EXEMPTED, NEW or EXISTING
	Number       string `json:"number,omitempty"`
	Amount       string `json:"amount,omitempty"`
	StartDate    string `json:"startDate,omitempty"` // 2006-01-02
	EndDate      string `json:"endDate,omitempty"`
	AttachmentID string `json:"attachmentId,omitempty"`
}

// Attachment is a file uploaded beforehand (POST /v1/attachments/file).
type Attachment struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Contact is a technical or notification contact: a registered user
// (RegisteredUsers) or, for TECHNICAL only, a person by name and details.
type Contact struct {
	Type            string          `json:"type"` // TECHNICAL or NOTIFICATION
	RegisteredUsers []string        `json:"registeredUsers,omitempty"`
	FirstName       string          `json:"firstName,omitempty"`
	LastName        string          `json:"lastName,omitempty"`
	Details         []ContactDetail `json:"details,omitempty"`
	Availability    string          `json:"availability,omitempty"` // WORK_HOURS or ANYTIME
	Timezone        string          `json:"timezone,omitempty"`     // IANA, e.g. Europe/Amsterdam
}

// ContactDetail is one way to reach a person.
type ContactDetail struct {
	Type  string `json:"type"` // MOBILE, EMAIL (or PHONE for contacts)
	Value string `json:"value"`
}

// CageRef names a cage, and optionally the account and one cabinet in it.
type CageRef struct {
	ID            string `json:"id"` // "DC2:01:123456"
	AccountNumber string `json:"accountNumber,omitempty"`
	CabinetID     string `json:"cabinetId,omitempty"` // "DC2:01:123456:0101"
}

// Visitor is either registered users (RegisteredUsers) or one person by
// name.
type Visitor struct {
	RegisteredUsers []string        `json:"registeredUsers,omitempty"`
	FirstName       string          `json:"firstName,omitempty"`
	LastName        string          `json:"lastName,omitempty"`
	CompanyName     string          `json:"companyName,omitempty"`
	Details         []ContactDetail `json:"details,omitempty"` // MOBILE, EMAIL
}

// WorkVisitDetails is where, when and who.
type WorkVisitDetails struct {
	Cages              []CageRef
	VisitStartDateTime time.Time // sent as UTC, whole seconds
	VisitEndDateTime   time.Time
	OpenCabinet        bool
	Visitors           []Visitor
}

// MarshalJSON writes the times as UTC "2006-01-02T15:04:05Z".
func (d WorkVisitDetails) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Cages              []CageRef `json:"cages"`
		VisitStartDateTime string    `json:"visitStartDateTime"`
		VisitEndDateTime   string    `json:"visitEndDateTime"`
		OpenCabinet        bool      `json:"openCabinet"`
		Visitors           []Visitor `json:"visitors"`
	}{
		Cages:              d.Cages,
		VisitStartDateTime: d.VisitStartDateTime.UTC().Format(TimeLayout),
		VisitEndDateTime:   d.VisitEndDateTime.UTC().Format(TimeLayout),
		OpenCabinet:        d.OpenCabinet,
		Visitors:           d.Visitors,
	})
}

// CreateWorkVisit orders a work visit and returns the new order's id
// ("1-23232322"). It is sent again only when Equinix cannot have received
// it; when it may have (a timeout, a broken connection, a 5xx answer, a
// cancelled ctx after sending), the error is an *UncertainError and the
// caller must search by req.CustomerReferenceID before sending it again.
func (c *Client) CreateWorkVisit(ctx context.Context, req *WorkVisitRequest) (string, error) {
	if req == nil {
		return "", errors.New("create work visit: no request")
	}
	if len(req.Details.Cages) == 0 || len(req.Details.Visitors) == 0 ||
		req.Details.VisitStartDateTime.IsZero() || req.Details.VisitEndDateTime.IsZero() {
		return "", errors.New("create work visit: the request needs at least one cage, one visitor, a start and an end")
	}
	op := "create work visit"
	resp, err := c.do(ctx, &request{
		op:     op,
		method: http.MethodPost,
		path:   "/colocations/v2/orders/workVisits",
		body:   req,
		auth:   true,
		replay: replayNever,
	})
	if err != nil {
		if u, ok := errors.AsType[*UncertainError](err); ok {
			u.CustomerReferenceID = req.CustomerReferenceID
		}
		return "", err
	}
	id := orderIDFromLocation(resp.header.Get("Location"))
	if id == "" {
		// The order exists, but which one it is must be found by reference.
		return "", &UncertainError{
			Op:                  op,
			CustomerReferenceID: req.CustomerReferenceID,
			Err:                 fmt.Errorf("the API answered HTTP %d without an order id in Location (%q)", resp.status, resp.header.Get("Location")),
		}
	}
	return id, nil
}

// orderIDFromLocation returns the last path segment of a Location header
// such as "/orders/1-23232322" or an absolute URL.
func orderIDFromLocation(loc string) string {
	loc = strings.TrimSpace(loc)
	if loc == "" {
		return ""
	}
	if u, err := url.Parse(loc); err == nil {
		loc = u.Path
	}
	id := path.Base(strings.TrimRight(loc, "/"))
	if id == "." || id == "/" || id == "orders" || id == "workVisits" {
		return ""
	}
	return id
}

// WorkVisitUpdate is a change to an open work visit. Only these fields can
// change; anything else must go in an order note. Nil fields are left as
// they are.
type WorkVisitUpdate struct {
	VisitStartDateTime *time.Time
	VisitEndDateTime   *time.Time
	OpenCabinet        *bool
	// NotificationContacts may hold at most one contact, of type
	// NOTIFICATION (Type may be left empty).
	NotificationContacts []Contact
}

// MarshalJSON writes the PATCH body.
func (u WorkVisitUpdate) MarshalJSON() ([]byte, error) {
	type details struct {
		VisitStartDateTime string `json:"visitStartDateTime,omitempty"`
		VisitEndDateTime   string `json:"visitEndDateTime,omitempty"`
		OpenCabinet        *bool  `json:"openCabinet,omitempty"`
	}
	var body struct {
		Contacts []Contact `json:"contacts,omitempty"`
		Details  *details  `json:"details,omitempty"`
	}
	for _, ct := range u.NotificationContacts {
		ct.Type = cmp.Or(ct.Type, ContactNotification)
		body.Contacts = append(body.Contacts, ct)
	}
	if u.VisitStartDateTime != nil || u.VisitEndDateTime != nil || u.OpenCabinet != nil {
		body.Details = &details{OpenCabinet: u.OpenCabinet}
		if u.VisitStartDateTime != nil {
			body.Details.VisitStartDateTime = u.VisitStartDateTime.UTC().Format(TimeLayout)
		}
		if u.VisitEndDateTime != nil {
			body.Details.VisitEndDateTime = u.VisitEndDateTime.UTC().Format(TimeLayout)
		}
	}
	return json.Marshal(body)
}

func (u *WorkVisitUpdate) check() error {
	switch {
	case u == nil || u.VisitStartDateTime == nil && u.VisitEndDateTime == nil && u.OpenCabinet == nil && len(u.NotificationContacts) == 0:
		return errors.New("nothing to change")
	case len(u.NotificationContacts) > 1:
		return fmt.Errorf("%d notification contacts given; an update takes at most one", len(u.NotificationContacts))
	case len(u.NotificationContacts) == 1 && cmp.Or(u.NotificationContacts[0].Type, ContactNotification) != ContactNotification:
		return fmt.Errorf("an update can change only a NOTIFICATION contact, not %s", u.NotificationContacts[0].Type)
	}
	return nil
}

// UpdateWorkVisit changes the visit times, the open-cabinet flag or the
// notification contact of order orderID. Equinix refuses it (403
// EQ-2016007) once the order is cancelled or closed.
func (c *Client) UpdateWorkVisit(ctx context.Context, orderID string, u *WorkVisitUpdate) error {
	return c.updateWorkVisit(ctx, orderID, u, replaySafe)
}

// UpdateWorkVisitOnce is UpdateWorkVisit for a caller that keeps its own
// record of each update: it is repeated only when Equinix cannot have
// received it (a 429, a 401, a connection that failed before anything was
// written). When it may have been applied, the error is an *UncertainError
// and the caller reads the order back (GetOrder) before sending it again.
func (c *Client) UpdateWorkVisitOnce(ctx context.Context, orderID string, u *WorkVisitUpdate) error {
	return c.updateWorkVisit(ctx, orderID, u, replayNever)
}

func (c *Client) updateWorkVisit(ctx context.Context, orderID string, u *WorkVisitUpdate, replay replayPolicy) error {
	op := "update work visit " + orderID
	if err := checkOrderID(orderID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := u.check(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err := c.do(ctx, &request{
		op:     op,
		method: http.MethodPatch,
		path:   "/colocations/v2/orders/workVisits/" + url.PathEscape(orderID),
		body:   u,
		auth:   true,
		replay: replay,
	})
	return err
}

// ErrOrderClosed is matched by the error CancelOrder returns for an order
// that Equinix closed (the visit is over): it can no longer be cancelled,
// and never will be.
var ErrOrderClosed = errors.New("the order is closed at Equinix")

// Codes of Equinix's refusal to cancel or change an order because of the
// state it is in (among others, cancelled or closed already).
const (
	CodeCannotCancel = "EQ-2014007"
	CodeCannotUpdate = "EQ-2016007"
)

// CancelOrder cancels order orderID, giving reason (5..4000 characters).
// When the cancel is refused because of the order's state (EQ-2014007,
// EQ-2016007), or a repeat of an attempt that may have reached Equinix is
// refused, the order is read back: CANCELLED means the cancel holds (nil),
// CLOSED gives an error matching ErrOrderClosed. A read-back that fails
// gives its own error, retryable when it is.
func (c *Client) CancelOrder(ctx context.Context, orderID, reason string) error {
	op := "cancel order " + orderID
	if err := checkOrderID(orderID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 5 || n > 4000 {
		return fmt.Errorf("%s: the reason must be 5 to 4000 characters, not %d", op, n)
	}
	r := &request{
		op:     op,
		method: http.MethodPost,
		path:   "/colocations/v2/orders/" + url.PathEscape(orderID) + "/cancel",
		body: struct {
			Reason string `json:"reason"`
		}{reason},
		auth:   true,
		replay: replaySafe,
	}
	_, err := c.do(ctx, r)
	e, ok := errors.AsType[*APIError](err)
	if !ok || e.Status < 400 || e.Status >= 500 || e.Status == http.StatusUnauthorized {
		return err
	}
	if !r.maybeSent && e.Code != CodeCannotCancel && e.Code != CodeCannotUpdate {
		return err
	}
	o, gerr := c.GetOrder(ctx, orderID)
	switch {
	case gerr != nil && IsRetryable(gerr):
		return fmt.Errorf("%s: refused with %s; reading the order back: %w", op, cmp.Or(e.Code, "HTTP "+strconv.Itoa(e.Status)), gerr)
	case gerr != nil:
		return err
	case o.Status == StatusCancelled:
		return nil
	case o.Status == StatusClosed:
		return fmt.Errorf("%s: %w", op, ErrOrderClosed)
	}
	return err
}

func checkOrderID(id string) error {
	if strings.TrimSpace(id) == "" {
		return errors.New("empty order id")
	}
	if len(id) > 100 {
		return errors.New("order id longer than 100 characters")
	}
	return nil
}
