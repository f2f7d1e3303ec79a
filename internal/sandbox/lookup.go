package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// historyStatus maps an order state to the order history API's states
// (orderhistory-v1.json order-header-status-enum).
func historyStatus(st string) string {
	switch st {
	case StatusReceived:
		return "SUBMITTED"
	case StatusOnHold:
		return "PENDING_QA"
	default: // IN_PROGRESS, CANCELLED, CLOSED are spelled alike
		return st
	}
}

var historySources = []string{"ORDER_NUMBER", "PO_NUMBER", "CUSTOMER_REFERENCE_NUMBER", "CONTACT_LAST_NAME",
	"SR_NUMBER", "TROUBLE_TICKET_NUMBER", "WORK_ACTIVITY_NUMBER"}

var dateRanges = map[string]time.Duration{
	"PAST_7_DAYS": 7 * 24 * time.Hour, "PAST_14_DAYS": 14 * 24 * time.Hour, "PAST_30_DAYS": 30 * 24 * time.Hour,
	"PAST_3_MONTHS": 91 * 24 * time.Hour, "PAST_6_MONTHS": 182 * 24 * time.Hour, "PAST_YEAR": 365 * 24 * time.Hour,
}

type (
	historyRequest struct {
		Filters struct {
			IBXs         []string `json:"ibxs"`
			ProductTypes []string `json:"productTypes"`
			OrderStatus  []string `json:"orderStatus"`
			DateRange    string   `json:"dateRange"`
			FromDate     string   `json:"fromDate"`
			ToDate       string   `json:"toDate"`
		} `json:"filters"`
		Source []string `json:"source"`
		Q      string   `json:"q"`
		Sorts  []struct {
			Name      string `json:"name"`
			Direction string `json:"direction"`
		} `json:"sorts"`
		Page struct {
			Number *int `json:"number"`
			Size   *int `json:"size"`
		} `json:"page"`
	}
	historyAnswer struct {
		Content []orderHeader `json:"content"`
		Page    historyPage   `json:"page"`
	}
	historyPage struct {
		Size          int `json:"size"`
		TotalElements int `json:"totalElements"`
		TotalPages    int `json:"totalPages"`
		Number        int `json:"number"`
	}
	orderHeader struct {
		OrderNumber              string          `json:"orderNumber"`
		Type                     []string        `json:"type"`
		OrderStatus              string          `json:"orderStatus"`
		CreatedAt                string          `json:"createdAt"`
		SubmittedDate            string          `json:"submittedDate"`
		Account                  *historyAccount `json:"account,omitempty"`
		OrderingContact          *historyContact `json:"orderingContact,omitempty"`
		IBX                      []string        `json:"ibx"`
		CustomerReferenceNumbers []string        `json:"customerReferenceNumbers"`
	}
	historyAccount struct {
		AccountNumber string `json:"accountNumber"`
		AccountName   string `json:"accountName"`
	}
	historyContact struct {
		Name  string `json:"name"`
		Email string `json:"email,omitempty"`
	}
)

// handleRetrieveOrders is POST /v1/retrieve-orders: the orders of the last
// 12 months matching the filters, newest first unless sorted otherwise, in
// pages of page.size (default 10, at most 200) numbered from 0. q matches
// any part of the sources named (ORDER_NUMBER, CUSTOMER_REFERENCE_NUMBER;
// both when none is named), without regard to case, as Equinix documents
// ("supports partial text search"): callers wanting one reference must
// compare it themselves.
func (s *Server) handleRetrieveOrders(w http.ResponseWriter, r *http.Request, _ tokenInfo) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeV1Error(w, http.StatusBadRequest, "EQX-400", "The request body cannot be read.")
		return
	}
	var req historyRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.writeV1Error(w, http.StatusBadRequest, "EQX-400", "The request body is not valid JSON: "+err.Error())
		return
	}
	number, size := 0, 10
	if req.Page.Number != nil {
		number = *req.Page.Number
	}
	if req.Page.Size != nil {
		size = *req.Page.Size
	}
	switch {
	case number < 0:
		s.writeV1Error(w, http.StatusBadRequest, "EQX-400", "page.number must not be negative.", "page.number")
		return
	case size < 1 || size > 200:
		s.writeV1Error(w, http.StatusBadRequest, "EQX-400", fmt.Sprintf("page.size must be 1 to 200, not %d.", size), "page.size")
		return
	}
	for i, src := range req.Source {
		if !slices.Contains(historySources, src) {
			s.writeV1Error(w, http.StatusBadRequest, "EQX-400", fmt.Sprintf("source %q is not supported.", src), fmt.Sprintf("source[%d]", i))
			return
		}
	}
	if dr := req.Filters.DateRange; dr != "" && dateRanges[dr] == 0 {
		s.writeV1Error(w, http.StatusBadRequest, "EQX-400", fmt.Sprintf("filters.dateRange %q is not supported.", dr), "filters.dateRange")
		return
	}
	from, to, ok := parseHistoryDates(req.Filters.FromDate, req.Filters.ToDate)
	if !ok {
		s.writeV1Error(w, http.StatusBadRequest, "EQX-400", "filters.fromDate and filters.toDate must be mm/dd/yyyy.", "filters.fromDate", "filters.toDate")
		return
	}

	now := s.now()
	since := now.Add(-365 * 24 * time.Hour)
	if d := dateRanges[req.Filters.DateRange]; d > 0 {
		since = now.Add(-d)
		from, to = time.Time{}, time.Time{}
	}
	sources := req.Source
	if len(sources) == 0 {
		sources = []string{"ORDER_NUMBER", "CUSTOMER_REFERENCE_NUMBER"}
	}
	q := strings.ToLower(strings.TrimSpace(req.Q))
	wantType := len(req.Filters.ProductTypes) == 0 || slices.Contains(req.Filters.ProductTypes, "WORK_VISIT")

	s.ordersMu.RLock()
	var found []orderHeader
	var created []time.Time
	for _, o := range s.list {
		st := historyStatus(o.status(now))
		switch {
		case !wantType, o.Created.Before(since),
			!from.IsZero() && o.Created.Before(from), !to.IsZero() && !o.Created.Before(to),
			len(req.Filters.IBXs) > 0 && !slices.Contains(req.Filters.IBXs, o.IBX),
			len(req.Filters.OrderStatus) > 0 && !slices.Contains(req.Filters.OrderStatus, st),
			q != "" && !matchesSource(o, sources, q):
			continue
		}
		h := orderHeader{
			OrderNumber:              o.ID,
			Type:                     []string{"Work Visit"},
			OrderStatus:              st,
			CreatedAt:                o.Created.UTC().Format(time.RFC3339),
			SubmittedDate:            o.Created.UTC().Format(time.RFC3339),
			IBX:                      []string{o.IBX},
			CustomerReferenceNumbers: []string{},
		}
		if o.CustomerReferenceID != "" {
			h.CustomerReferenceNumbers = []string{o.CustomerReferenceID}
		}
		if o.AccountNumber != "" {
			h.Account = &historyAccount{AccountNumber: o.AccountNumber, AccountName: o.accountName}
		}
		if u, ok := s.idx.user(o.orderingUser); ok {
			h.OrderingContact = &historyContact{Name: u.FirstName + " " + u.LastName, Email: u.Email}
		}
		found = append(found, h)
		created = append(created, o.Created)
	}
	s.ordersMu.RUnlock()

	// s.list is oldest first; sort by creation (DESC by default), stably.
	idx := make([]int, len(found))
	for i := range idx {
		idx[i] = i
	}
	asc := false
	byAccount := false
	for _, so := range req.Sorts {
		switch so.Name {
		case "CREATED_ON":
			asc = so.Direction == "ASC"
		case "ACCOUNT_NUMBER":
			byAccount, asc = true, so.Direction != "DESC"
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		c := 0
		if byAccount {
			c = cmp.Compare(accountOf(found[a]), accountOf(found[b]))
		}
		if c == 0 {
			c = created[a].Compare(created[b])
			if c == 0 {
				c = cmp.Compare(a, b)
			}
		}
		if !asc {
			c = -c
		}
		return c
	})
	ans := historyAnswer{Content: []orderHeader{}, Page: historyPage{
		Size: size, TotalElements: len(found), TotalPages: (len(found) + size - 1) / size, Number: number,
	}}
	for _, i := range idx[min(number*size, len(idx)):min((number+1)*size, len(idx))] {
		ans.Content = append(ans.Content, found[i])
	}
	writeJSON(w, http.StatusOK, ans)
}

func accountOf(h orderHeader) string {
	if h.Account == nil {
		return ""
	}
	return h.Account.AccountNumber
}

func matchesSource(o *order, sources []string, q string) bool {
	for _, src := range sources {
		switch src {
		case "ORDER_NUMBER":
			if strings.Contains(strings.ToLower(o.ID), q) {
				return true
			}
		case "CUSTOMER_REFERENCE_NUMBER":
			if strings.Contains(strings.ToLower(o.CustomerReferenceID), q) {
				return true
			}
		}
	}
	return false
}

// parseHistoryDates reads the mm/dd/yyyy filter dates; to is exclusive
// (the day after toDate).
func parseHistoryDates(fromS, toS string) (from, to time.Time, ok bool) {
	var err error
	if fromS != "" {
		if from, err = time.Parse("01/02/2006", fromS); err != nil {
			return from, to, false
		}
	}
	if toS != "" {
		if to, err = time.Parse("01/02/2006", toS); err != nil {
			return from, to, false
		}
		to = to.AddDate(0, 0, 1)
	}
	return from, to, true
}

type (
	locationAnswer struct {
		IBX              string           `json:"ibx"`
		AccessRestricted bool             `json:"accessRestricted"`
		SpecialPrivilege bool             `json:"specialPrivilege"`
		Accounts         []accountAnswer  `json:"accounts,omitempty"`
		Cages            []cageLineAnswer `json:"cages,omitempty"`
		// Permissive is the sandbox's own mark, never Equinix's: at this
		// IBX it accepts any well-formed cage, cabinet and account besides
		// those listed (see Config.Permissive).
		Permissive bool `json:"sandboxPermissive,omitempty"`
	}
	accountAnswer struct {
		AccountNumber string `json:"accountNumber"`
		AccountName   string `json:"accountName"`
		AllowOrder    bool   `json:"allowOrder"`
	}
	cageLineAnswer struct {
		ID            string `json:"id"`
		Type          string `json:"type"`
		AccountNumber string `json:"accountNumber"`
		CabinetID     string `json:"cabinetId,omitempty"`
		CabinetType   string `json:"cabinetType,omitempty"`
	}
)

var permissionKeys = map[string]string{"WORK_VISIT": "workVisits", "CROSS_CONNECT": "crossConnects", "SHIPMENTS": "shipments"}

// splitList reads a query list given as "a,b" or repeated, upper-cased.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.ToUpper(strings.TrimSpace(p)); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// handleLocations is GET /colocations/v2/locations: the account's IBXs
// (filtered by ibxs) under the key of permissionCode ("workVisits" for
// WORK_VISIT). With details=true each IBX lists its accounts and one cages
// entry per cabinet (a cage without cabinets gets one entry without
// cabinetId), as lookup-v2.json's example shows.
//
// A permissive sandbox takes any well-formed place in orders, and a lookup
// can name only IBXs: it answers every well-formed IBX asked for (one the
// account does not list with no accounts or cages), each marked
// sandboxPermissive, which tells a client that any well-formed cage,
// cabinet and account there is accepted besides those listed, which keep
// their rules.
func (s *Server) handleLocations(w http.ResponseWriter, r *http.Request, _ tokenInfo) {
	qv := r.URL.Query()
	perm := qv.Get("permissionCode")
	key, ok := permissionKeys[perm]
	switch {
	case perm == "":
		s.writeError(w, http.StatusBadRequest, CodeLookupMissingParam, "", problem{Property: "permissionCode", Reason: "permissionCode is required"})
		return
	case !ok:
		s.writeError(w, http.StatusBadRequest, CodeLookupMissingParam, "", problem{Property: "permissionCode",
			Reason: "permissionCode must be CROSS_CONNECT, WORK_VISIT or SHIPMENTS", Value: perm})
		return
	}
	details := false
	if d := qv.Get("details"); d != "" {
		var err error
		if details, err = strconv.ParseBool(d); err != nil {
			s.writeError(w, http.StatusBadRequest, CodeLookupMissingParam, "", problem{Property: "details", Reason: "details must be true or false", Value: d})
			return
		}
	}
	ibxs := splitList(qv["ibxs"])
	out := []locationAnswer{}
	// The account's IBXs in its order, then, in a permissive sandbox, the
	// other well-formed IBXs asked for.
	codes := make([]string, 0, len(s.idx.acct.IBXs)+len(ibxs))
	for _, ibx := range s.idx.acct.IBXs {
		codes = append(codes, ibx.Code)
	}
	if s.cfg.Permissive {
		for _, code := range ibxs {
			if s.idx.ibx[code] == nil && ibxCodeRe.MatchString(code) && !slices.Contains(codes, code) {
				codes = append(codes, code)
			}
		}
	}
	for _, code := range codes {
		if len(ibxs) > 0 && !slices.Contains(ibxs, code) {
			continue
		}
		la := locationAnswer{IBX: code, Permissive: s.cfg.Permissive}
		ibx := s.idx.ibx[code]
		if ibx != nil {
			la.AccessRestricted = ibx.AccessRestricted
		}
		if details {
			la.Accounts = []accountAnswer{}
			la.Cages = []cageLineAnswer{}
			if ibx != nil {
				for _, a := range ibx.Accounts {
					la.Accounts = append(la.Accounts, accountAnswer{AccountNumber: a.Number, AccountName: a.Name, AllowOrder: a.AllowOrder})
				}
				for _, c := range ibx.Cages {
					line := cageLineAnswer{ID: c.ID, Type: cmp.Or(c.Type, "PRIVATE"), AccountNumber: c.AccountNumber}
					if len(c.Cabinets) == 0 {
						la.Cages = append(la.Cages, line)
					}
					for _, cab := range c.Cabinets {
						line.CabinetID, line.CabinetType = cab, cmp.Or(c.CabinetType, "PRIVATE")
						la.Cages = append(la.Cages, line)
					}
				}
			}
		}
		out = append(out, la)
	}
	writeJSON(w, http.StatusOK, map[string][]locationAnswer{key: out})
}

// usersAnswer is GET /access/v2/users's answer. Equinix publishes no shape
// for it; the sandbox answers in the pagination + data form of Equinix's
// other v2 lists:
//
//	{"pagination": {"offset": 0, "limit": 20, "total": 1},
//	 "data": [{"username": "jane.visitor", "firstName": "Jane", "lastName": "Visitor",
//	           "email": "jane.visitor@acme.example", "status": "ACTIVE"}]}
type usersAnswer struct {
	Pagination struct {
		Offset int `json:"offset"`
		Limit  int `json:"limit"`
		Total  int `json:"total"`
	} `json:"pagination"`
	Data []User `json:"data"`
}

// handleUsers is GET /access/v2/users?keyword=&status=&offset=&limit=:
// the users whose username, names or email contain keyword (any case),
// with one of the statuses (comma-separated; all when absent), in pages
// of limit (default 20, at most 100) from offset.
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, _ tokenInfo) {
	qv := r.URL.Query()
	intParam := func(name string, def, lo, hi int) (int, bool) {
		v := qv.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			s.writeError(w, http.StatusBadRequest, "400", "", problem{Property: name,
				Reason: fmt.Sprintf("%s must be a whole number from %d to %d", name, lo, hi), Value: v})
			return 0, false
		}
		return n, true
	}
	offset, ok := intParam("offset", 0, 0, 1<<30)
	if !ok {
		return
	}
	limit, ok := intParam("limit", 20, 1, 100)
	if !ok {
		return
	}
	statuses := splitList(qv["status"])
	for _, st := range statuses {
		switch UserStatus(st) {
		case UserActive, UserApproved, UserLocked, UserTerminated:
		default:
			s.writeError(w, http.StatusBadRequest, "400", "", problem{Property: "status",
				Reason: "status must be ACTIVE, APPROVED, LOCKED or TERMINATED", Value: st})
			return
		}
	}
	kw := strings.ToLower(strings.TrimSpace(qv.Get("keyword")))
	var match []User
	for _, u := range s.idx.acct.Users {
		if len(statuses) > 0 && !slices.Contains(statuses, string(u.Status)) {
			continue
		}
		if kw != "" && !strings.Contains(strings.ToLower(u.Username), kw) &&
			!strings.Contains(strings.ToLower(u.FirstName+" "+u.LastName), kw) &&
			!strings.Contains(strings.ToLower(u.Email), kw) {
			continue
		}
		match = append(match, u)
	}
	if s.cfg.Permissive && usernameOK(kw) && (len(statuses) == 0 || slices.Contains(statuses, string(UserActive))) {
		if _, listed := s.idx.user(kw); !listed {
			// Permissive: any well-formed username is an ACTIVE user, in
			// lookups as in orders.
			match = append(match, User{Username: strings.TrimSpace(qv.Get("keyword")), Status: UserActive})
		}
	}
	var a usersAnswer
	a.Pagination.Offset, a.Pagination.Limit, a.Pagination.Total = offset, limit, len(match)
	a.Data = append([]User{}, match[min(offset, len(match)):min(offset+limit, len(match))]...)
	writeJSON(w, http.StatusOK, a)
}
