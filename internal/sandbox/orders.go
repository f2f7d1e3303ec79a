package sandbox

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Order states (orders v2).
const (
	StatusReceived   = "RECEIVED"
	StatusInProgress = "IN_PROGRESS"
	StatusOnHold     = "ON_HOLD"
	StatusClosed     = "CLOSED"
	StatusCancelled  = "CANCELLED"
)

const maxBody = 1 << 20

var orderIDRe = regexp.MustCompile(`^1-[0-9]{1,20}$`)

// Order is a work visit order the sandbox holds, as Orders and GET
// /sandbox/orders show it.
type Order struct {
	ID                  string          `json:"id"`
	CustomerReferenceID string          `json:"customerReferenceId,omitempty"`
	Status              string          `json:"status"`
	Created             time.Time       `json:"createdDateTime"`
	Updated             time.Time       `json:"updatedDateTime"`
	IBX                 string          `json:"ibx"`
	AccountNumber       string          `json:"accountNumber,omitempty"`
	Cages               []OrderCage     `json:"cages"`
	VisitStart          time.Time       `json:"visitStartDateTime"`
	VisitEnd            time.Time       `json:"visitEndDateTime"`
	OpenCabinet         bool            `json:"openCabinet"`
	Visitors            int             `json:"visitors"` // people, registered or not
	NotificationUsers   []string        `json:"notificationUsers,omitempty"`
	CreateBody          json.RawMessage `json:"createBody"` // exactly as received
	CancelReason        string          `json:"cancelReason,omitempty"`
	Patches             []Patch         `json:"patches,omitempty"`
}

// OrderCage is one cage of an order, with the cabinets named for it.
type OrderCage struct {
	ID       string   `json:"id"`
	Cabinets []string `json:"cabinets,omitempty"`
}

// Patch is one accepted update of an order.
type Patch struct {
	At   time.Time       `json:"at"`
	Body json.RawMessage `json:"body"`
}

// order is an Order plus what the sandbox keeps for answers.
type order struct {
	Order
	description   string
	accountName   string
	orderingUser  string
	technicalUser string // registered technical contact; "" for the ordering user
	technical     *contactBody
	closed        time.Time
}

// status is the order's state at now: an open order whose visit has ended
// is CLOSED.
func (o *order) status(now time.Time) string {
	switch o.Status {
	case StatusReceived, StatusInProgress, StatusOnHold:
		if !now.Before(o.VisitEnd) {
			return StatusClosed
		}
	}
	return o.Status
}

func isOpen(status string) bool { return status != StatusClosed && status != StatusCancelled }

// snapshot copies o with its status at now.
func (o *order) snapshot(now time.Time) Order {
	c := o.Order
	c.Status = o.status(now)
	c.Cages = make([]OrderCage, len(o.Cages))
	for i, cg := range o.Cages {
		c.Cages[i] = OrderCage{ID: cg.ID, Cabinets: append([]string(nil), cg.Cabinets...)}
	}
	c.NotificationUsers = append([]string(nil), o.NotificationUsers...)
	c.Patches = append([]Patch(nil), o.Patches...)
	return c
}

// Orders returns a copy of every order held, oldest first.
func (s *Server) Orders() []Order {
	now := s.now()
	s.ordersMu.RLock()
	defer s.ordersMu.RUnlock()
	out := make([]Order, len(s.list))
	for i, o := range s.list {
		out[i] = o.snapshot(now)
	}
	return out
}

// WaitOrders waits until the server holds at least n orders, or ctx ends
// (returning its error): a test's signal that orders were placed, instead
// of polling Orders.
func (s *Server) WaitOrders(ctx context.Context, n int) error {
	for {
		s.ordersMu.Lock()
		if len(s.list) >= n {
			s.ordersMu.Unlock()
			return nil
		}
		ch := s.nextChange()
		s.ordersMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitFor waits until cond holds for the orders held (as Orders returns
// them), or ctx ends (returning its error): a test's signal that orders
// were changed or cancelled, instead of polling Orders. cond is asked again
// after each change.
func (s *Server) WaitFor(ctx context.Context, cond func([]Order) bool) error {
	for {
		s.ordersMu.Lock()
		ch := s.nextChange()
		s.ordersMu.Unlock()
		if cond(s.Orders()) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// nextChange returns a channel closed by the next change. The caller holds
// ordersMu for writing.
func (s *Server) nextChange() <-chan struct{} {
	if s.changes == nil {
		s.changes = make(chan struct{})
	}
	return s.changes
}

// SetOrderStatus sets an order's state, as Equinix's staff would move it
// (IN_PROGRESS, ON_HOLD, CLOSED…), for tests and demos.
func (s *Server) SetOrderStatus(id, status string) error {
	switch status {
	case StatusReceived, StatusInProgress, StatusOnHold, StatusClosed, StatusCancelled:
	default:
		return fmt.Errorf("sandbox: unknown order status %q", status)
	}
	s.ordersMu.Lock()
	defer s.ordersMu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return fmt.Errorf("sandbox: no order %s", id)
	}
	s.changed(o)
	now := s.now()
	o.Status, o.Updated = status, now
	if status == StatusClosed {
		o.closed = now
	}
	return nil
}

// handleDump is GET /sandbox/orders.
func (s *Server) handleDump(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Orders []Order `json:"orders"`
	}{s.Orders()})
}

// readJSONBody reads a request's JSON body, answering 415 or 400 itself
// when it cannot.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if !isJSON(r) {
		s.writeError(w, http.StatusUnsupportedMediaType, "415", "Content-Type must be application/json")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, http.StatusBadRequest, CodeMissingProperties, "the request body cannot be read: "+err.Error())
		return nil, false
	}
	return body, true
}

// handleCreate is POST /colocations/v2/orders/workVisits.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, t tokenInfo) {
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return
	}
	var b createBody
	now := s.now()
	probs := decodeBody(body, createShape, "is not a property of a work visit", &b)
	if probs == nil {
		probs = validateCreate(&b, now)
	}
	if len(probs) > 0 {
		s.writeError(w, http.StatusBadRequest, CodeMissingProperties, "", probs...)
		return
	}
	acct, denied := s.checkCages(b.Details.Cages)
	if len(denied) > 0 {
		s.writeError(w, http.StatusForbidden, CodeCageNotPermitted, "", problem{
			Property: "details.cages[]",
			Reason:   "details.cages[].id or details.cages[].cabinetId or details.cages[].accountNumber is not found",
			Value:    denied,
		})
		return
	}
	if probs := s.checkUsers(t.user, b.Contacts, b.Details.Visitors); len(probs) > 0 {
		s.writeError(w, http.StatusForbidden, CodeUserNotActive, "", probs...)
		return
	}

	start, _ := parseUTC(*b.Details.VisitStartDateTime)
	end, _ := parseUTC(*b.Details.VisitEndDateTime)
	o := &order{
		Order: Order{
			Status:        StatusReceived,
			Created:       now,
			Updated:       now,
			IBX:           cageIBX(b.Details.Cages[0].ID),
			AccountNumber: acct,
			VisitStart:    start,
			VisitEnd:      end,
			CreateBody:    json.RawMessage(body),
		},
		description:  *b.Description,
		accountName:  s.idx.billing[acct].Name,
		orderingUser: t.user,
	}
	if b.CustomerReferenceID != nil {
		o.CustomerReferenceID = *b.CustomerReferenceID
	}
	if b.Details.OpenCabinet != nil {
		o.OpenCabinet = *b.Details.OpenCabinet
	}
	for _, c := range b.Details.Cages {
		o.addCage(c.ID, c.CabinetID)
	}
	for _, v := range b.Details.Visitors {
		o.Visitors += max(1, len(v.RegisteredUsers))
	}
	for i := range b.Contacts {
		c := &b.Contacts[i]
		switch {
		case *c.Type == "NOTIFICATION":
			o.NotificationUsers = append(o.NotificationUsers, c.RegisteredUsers...)
		case len(c.RegisteredUsers) > 0:
			o.technicalUser = c.RegisteredUsers[0]
		default:
			o.technical = c
		}
	}

	s.ordersMu.Lock()
	s.nextID++
	o.ID = "1-" + strconv.FormatInt(s.nextID, 10)
	s.orders[o.ID] = o
	s.list = append(s.list, o)
	s.changed(o)
	s.ordersMu.Unlock()

	w.Header().Set("Location", "/orders/"+o.ID)
	w.WriteHeader(http.StatusCreated)
}

func (o *order) addCage(id, cabinet string) {
	for i := range o.Cages {
		if o.Cages[i].ID == id {
			if cabinet != "" {
				o.Cages[i].Cabinets = append(o.Cages[i].Cabinets, cabinet)
			}
			return
		}
	}
	cg := OrderCage{ID: id}
	if cabinet != "" {
		cg.Cabinets = []string{cabinet}
	}
	o.Cages = append(o.Cages, cg)
}

// checkCages returns the account the order bills to and the cages (as
// sent) that the account does not permit.
func (s *Server) checkCages(cages []cageBody) (string, []map[string]string) {
	var denied []map[string]string
	acct := ""
	for _, c := range cages {
		ok := true
		known, isKnown := s.idx.cage[c.ID]
		billTo := c.AccountNumber
		switch {
		case isKnown:
			if c.AccountNumber != "" && c.AccountNumber != known.AccountNumber {
				ok = false
			}
			billTo = known.AccountNumber
			if c.CabinetID != "" && !s.idx.cabinets[c.CabinetID] && !s.cfg.Permissive {
				ok = false
			}
		case !s.cfg.Permissive:
			ok = false
		}
		if billTo != "" {
			if b, listed := s.idx.billing[billTo]; listed && !b.AllowOrder || !listed && !s.cfg.Permissive {
				ok = false
			}
		}
		if !ok {
			d := map[string]string{"id": c.ID}
			if c.CabinetID != "" {
				d["cabinetId"] = c.CabinetID
			}
			if c.AccountNumber != "" {
				d["accountNumber"] = c.AccountNumber
			}
			denied = append(denied, d)
		}
		if acct == "" {
			acct = billTo
		}
	}
	return acct, denied
}

// userStatus returns the state of a username: its listed status, ACTIVE for
// an unlisted well-formed username in permissive mode, else "".
func (s *Server) userStatus(name string) UserStatus {
	if u, ok := s.idx.user(name); ok {
		return u.Status
	}
	if s.cfg.Permissive && usernameOK(name) {
		return UserActive
	}
	return ""
}

// checkUsers applies EQX-161-403: the ordering user and registered
// visitors must be ACTIVE, registered contacts ACTIVE or LOCKED.
func (s *Server) checkUsers(ordering string, contacts []contactBody, visitors []visitorBody) problems {
	var p problems
	describe := func(name string, st UserStatus) string {
		if st == "" {
			return "user " + name + " is not a user of this account"
		}
		return "user " + name + " is " + string(st)
	}
	if st := s.userStatus(ordering); st != UserActive {
		p.add("orderingContact", describe(ordering, st)+"; the ordering contact must be ACTIVE", ordering)
	}
	for i, c := range contacts {
		for j, u := range c.RegisteredUsers {
			if st := s.userStatus(u); st != UserActive && st != UserLocked {
				p.add(fmt.Sprintf("contacts[%d].registeredUsers[%d]", i, j),
					describe(u, st)+"; "+strings.ToLower(*c.Type)+" contacts must be ACTIVE or LOCKED", u)
			}
		}
	}
	for i, v := range visitors {
		for j, u := range v.RegisteredUsers {
			if st := s.userStatus(u); st != UserActive {
				p.add(fmt.Sprintf("details.visitors[%d].registeredUsers[%d]", i, j),
					describe(u, st)+"; registered visitors must be ACTIVE", u)
			}
		}
	}
	return p
}

// lookupOrder finds the order named by the request's orderId, answering
// 404 EQ-2014005 itself when there is none. The caller holds ordersMu.
func (s *Server) lookupOrder(w http.ResponseWriter, r *http.Request) *order {
	id := r.PathValue("orderId")
	o, ok := s.orders[id]
	if !ok || !orderIDRe.MatchString(id) {
		s.writeError(w, http.StatusNotFound, CodeOrderNotFound, "no order "+id)
		return nil
	}
	return o
}

// changeOrder locks the orders and returns the request's order, to be
// changed (and journaled) before unlock; nil when there is none, which is
// answered.
func (s *Server) changeOrder(w http.ResponseWriter, r *http.Request) (o *order, unlock func()) {
	s.ordersMu.Lock()
	if o = s.lookupOrder(w, r); o != nil {
		s.changed(o)
	}
	return o, s.ordersMu.Unlock
}

// handlePatch is PATCH /colocations/v2/orders/workVisits/{orderId}.
func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, t tokenInfo) {
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return
	}
	var b patchBody
	probs := decodeBody(body, patchShape,
		"cannot be updated; only details.visitStartDateTime, details.visitEndDateTime, details.openCabinet and one NOTIFICATION contact can change (put anything else in an order note)", &b)
	if probs == nil && len(b.Contacts) == 0 && (b.Details == nil ||
		b.Details.VisitStartDateTime == nil && b.Details.VisitEndDateTime == nil && b.Details.OpenCabinet == nil) {
		probs.add("details", "the update changes nothing", nil)
	}
	if probs == nil {
		if len(b.Contacts) > 1 {
			probs.add("contacts", fmt.Sprintf("an update takes at most 1 contacts item, not %d", len(b.Contacts)), nil)
		}
		for i, c := range b.Contacts {
			at := fmt.Sprintf("contacts[%d]", i)
			switch {
			case c.Type == nil || *c.Type == "":
				probs.required(at + ".type")
			case *c.Type != "NOTIFICATION":
				probs.add(at+".type", "only a NOTIFICATION contact can be updated", *c.Type)
			}
			if len(c.RegisteredUsers) == 0 {
				probs.required(at + ".registeredUsers")
			}
		}
	}

	now := s.now()
	o, unlock := s.changeOrder(w, r)
	defer unlock()
	if o == nil {
		return
	}
	start, end := o.VisitStart, o.VisitEnd
	if probs == nil && b.Details != nil {
		startChanged, endChanged := false, false
		if v := b.Details.VisitStartDateTime; v != nil {
			if start, ok = parseUTC(*v); !ok {
				probs.add("details.visitStartDateTime", "details.visitStartDateTime must be a UTC date and time such as 2019-08-24T14:15:22Z", *v)
			}
			startChanged = true
		}
		if v := b.Details.VisitEndDateTime; v != nil {
			if end, ok = parseUTC(*v); !ok {
				probs.add("details.visitEndDateTime", "details.visitEndDateTime must be a UTC date and time such as 2019-08-24T14:15:22Z", *v)
			}
			endChanged = true
		}
		if probs == nil && (startChanged || endChanged) {
			checkWindow(&probs, start, end, startChanged, endChanged, now)
		}
	}
	if len(probs) > 0 {
		s.writeError(w, http.StatusBadRequest, CodeMissingProperties, "", probs...)
		return
	}
	if st := o.status(now); !isOpen(st) {
		s.writeError(w, http.StatusForbidden, CodeCannotUpdate, "order "+o.ID+" is "+st+" and cannot be updated")
		return
	}
	if up := s.checkUsers(t.user, b.Contacts, nil); len(up) > 0 {
		s.writeError(w, http.StatusForbidden, CodeUserNotActive, "", up...)
		return
	}
	o.VisitStart, o.VisitEnd = start, end
	if b.Details != nil && b.Details.OpenCabinet != nil {
		o.OpenCabinet = *b.Details.OpenCabinet
	}
	if len(b.Contacts) == 1 {
		o.NotificationUsers = append([]string(nil), b.Contacts[0].RegisteredUsers...)
	}
	o.Updated = now
	o.Patches = append(o.Patches, Patch{At: now, Body: json.RawMessage(body)})
	w.Header().Set("Location", "/orders/"+o.ID)
	w.WriteHeader(http.StatusNoContent)
}

// handleCancel is POST /colocations/v2/orders/{orderId}/cancel.
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request, _ tokenInfo) {
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return
	}
	var b struct {
		Reason *string `json:"reason"`
	}
	probs := decodeBody(body, cancelShape, "is not a property of a cancel request", &b)
	if probs == nil {
		switch {
		case b.Reason == nil || strings.TrimSpace(*b.Reason) == "":
			probs.required("reason")
		case runeLen(*b.Reason) < 5 || runeLen(*b.Reason) > 4000:
			probs.add("reason", fmt.Sprintf("reason must be 5 to 4000 characters, not %d", runeLen(*b.Reason)), nil)
		}
	}
	now := s.now()
	o, unlock := s.changeOrder(w, r)
	defer unlock()
	if o == nil {
		return
	}
	if len(probs) > 0 {
		s.writeError(w, http.StatusBadRequest, CodeMissingProperties, "", probs...)
		return
	}
	if st := o.status(now); !isOpen(st) {
		s.writeError(w, http.StatusForbidden, CodeCannotCancel, "order "+o.ID+" is "+st+" and cannot be cancelled")
		return
	}
	o.Status, o.Updated, o.closed = StatusCancelled, now, now
	o.CancelReason = *b.Reason
	w.Header().Set("Location", "/orders/"+o.ID)
	w.WriteHeader(http.StatusNoContent)
}

// The order read-back (orders-v2.json, Orders = ordersBase + OrderDetails).
type (
	orderAnswer struct {
		OrderID             string          `json:"orderId"`
		AccountName         string          `json:"accountName,omitempty"`
		AccountNumber       string          `json:"accountNumber,omitempty"`
		Contacts            []contactAnswer `json:"contacts"`
		Status              string          `json:"status"`
		CreatedDateTime     string          `json:"createdDateTime"`
		UpdatedDateTime     string          `json:"updatedDateTime"`
		ClosedDateTime      string          `json:"closedDateTime,omitempty"`
		Channel             string          `json:"channel"`
		CustomerReferenceID string          `json:"customerReferenceId,omitempty"`
		Cancellable         bool            `json:"cancellable"`
		Modifiable          bool            `json:"modifiable"`
		Details             []lineAnswer    `json:"details"`
	}
	contactAnswer struct {
		RegisteredUser string         `json:"registeredUser,omitempty"`
		FirstName      string         `json:"firstName,omitempty"`
		LastName       string         `json:"lastName,omitempty"`
		Type           string         `json:"type"`
		Details        []detailAnswer `json:"details,omitempty"`
	}
	detailAnswer struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	lineAnswer struct {
		LineID         string     `json:"lineId"`
		Status         string     `json:"status"`
		Description    string     `json:"description"`
		ProductType    string     `json:"productType"`
		ProductName    string     `json:"productName"`
		IBX            string     `json:"ibx"`
		Cage           string     `json:"cage"`
		Cabinets       []string   `json:"cabinets,omitempty"`
		RequestType    string     `json:"requestType"`
		Cancellable    bool       `json:"cancellable"`
		Modifiable     bool       `json:"modifiable"`
		AdditionalInfo []keyValue `json:"additionalInfo"`
	}
	keyValue struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
)

const apiTime = "2006-01-02T15:04:05.000Z"

func (s *Server) contact(typ, name string) contactAnswer {
	c := contactAnswer{Type: typ, RegisteredUser: name}
	if u, ok := s.idx.user(name); ok {
		c.FirstName, c.LastName = u.FirstName, u.LastName
		if u.Email != "" {
			c.Details = []detailAnswer{{Type: "EMAIL", Value: u.Email}}
		}
	}
	return c
}

// answer renders o at now as GET /colocations/v2/orders/{orderId} does:
// one WORK_VISIT line per cage, the visit window in the line's
// additionalInfo (orders-v2.json has no fields for it).
func (s *Server) answer(o *order, now time.Time) orderAnswer {
	st := o.status(now)
	a := orderAnswer{
		OrderID:             o.ID,
		AccountName:         o.accountName,
		AccountNumber:       o.AccountNumber,
		Status:              st,
		CreatedDateTime:     o.Created.UTC().Format(apiTime),
		UpdatedDateTime:     o.Updated.UTC().Format(apiTime),
		Channel:             "API",
		CustomerReferenceID: o.CustomerReferenceID,
		Cancellable:         isOpen(st),
		Modifiable:          isOpen(st),
	}
	switch {
	case st == StatusCancelled || st == StatusClosed && !o.closed.IsZero():
		a.ClosedDateTime = o.closed.UTC().Format(apiTime)
	case st == StatusClosed:
		a.ClosedDateTime = o.VisitEnd.UTC().Format(apiTime)
	}
	a.Contacts = append(a.Contacts, s.contact("ORDERING", o.orderingUser))
	switch {
	case o.technical != nil:
		c := contactAnswer{Type: "TECHNICAL", FirstName: deref(o.technical.FirstName), LastName: deref(o.technical.LastName)}
		for _, d := range o.technical.Details {
			c.Details = append(c.Details, detailAnswer(d))
		}
		a.Contacts = append(a.Contacts, c)
	default:
		a.Contacts = append(a.Contacts, s.contact("TECHNICAL", cmp.Or(o.technicalUser, o.orderingUser)))
	}
	a.Contacts = append(a.Contacts, s.contact("NOTIFICATION", o.orderingUser))
	for _, u := range o.NotificationUsers {
		a.Contacts = append(a.Contacts, s.contact("NOTIFICATION", u))
	}
	info := []keyValue{
		{"VISIT_START_DATE_TIME", o.VisitStart.UTC().Format(time.RFC3339)},
		{"VISIT_END_DATE_TIME", o.VisitEnd.UTC().Format(time.RFC3339)},
		{"OPEN_CABINET", strconv.FormatBool(o.OpenCabinet)},
		{"VISITORS", strconv.Itoa(o.Visitors)},
	}
	for i, cg := range o.Cages {
		a.Details = append(a.Details, lineAnswer{
			LineID:         fmt.Sprintf("1-WV%s-%d", strings.TrimPrefix(o.ID, "1-"), i+1),
			Status:         st,
			Description:    o.description,
			ProductType:    "WORK_VISIT",
			ProductName:    "Work Visit",
			IBX:            o.IBX,
			Cage:           cg.ID,
			Cabinets:       cg.Cabinets,
			RequestType:    "ADD",
			Cancellable:    isOpen(st),
			Modifiable:     isOpen(st),
			AdditionalInfo: info,
		})
	}
	return a
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// handleGetOrder is GET /colocations/v2/orders/{orderId}.
func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request, _ tokenInfo) {
	now := s.now()
	s.ordersMu.RLock()
	o := s.lookupOrder(w, r)
	if o == nil {
		s.ordersMu.RUnlock()
		return
	}
	a := s.answer(o, now)
	s.ordersMu.RUnlock()
	writeJSON(w, http.StatusOK, a)
}
