package equinix

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OrderStatus is an order's state as GetOrder reports it.
type OrderStatus string

// The states of an order (orders v2).
const (
	StatusReceived   OrderStatus = "RECEIVED"
	StatusInProgress OrderStatus = "IN_PROGRESS"
	StatusOnHold     OrderStatus = "ON_HOLD"
	StatusClosed     OrderStatus = "CLOSED"
	StatusCancelled  OrderStatus = "CANCELLED"
)

// Order is an order read back with GetOrder.
type Order struct {
	OrderID             string         `json:"orderId"`
	AccountNumber       string         `json:"accountNumber"`
	AccountName         string         `json:"accountName"`
	Status              OrderStatus    `json:"status"`
	CustomerReferenceID string         `json:"customerReferenceId"`
	Cancellable         bool           `json:"cancellable"`
	Modifiable          bool           `json:"modifiable"`
	Channel             string         `json:"channel"`
	CreatedDateTime     time.Time      `json:"-"`
	UpdatedDateTime     time.Time      `json:"-"`
	Contacts            []OrderContact `json:"contacts"`
	Details             []OrderLine    `json:"details"`
}

// UnmarshalJSON reads an order, tolerating missing or malformed times.
func (o *Order) UnmarshalJSON(b []byte) error {
	type plain Order
	var w struct {
		plain
		Created string `json:"createdDateTime"`
		Updated string `json:"updatedDateTime"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*o = Order(w.plain)
	o.CreatedDateTime = parseAPITime(w.Created)
	o.UpdatedDateTime = parseAPITime(w.Updated)
	return nil
}

// OrderContact is a contact of an order.
type OrderContact struct {
	Type           string          `json:"type"` // ORDERING, TECHNICAL, NOTIFICATION, RESELLER
	RegisteredUser string          `json:"registeredUser"`
	FirstName      string          `json:"firstName"`
	LastName       string          `json:"lastName"`
	Details        []ContactDetail `json:"details"`
}

// OrderLine is one line of an order.
type OrderLine struct {
	LineID      string   `json:"lineId"`
	Status      string   `json:"status"`
	Description string   `json:"description"`
	ProductType string   `json:"productType"` // WORK_VISIT for work visits
	IBX         string   `json:"ibx"`
	Cage        string   `json:"cage"`
	Cabinets    []string `json:"cabinets"`
	Cancellable bool     `json:"cancellable"`
	Modifiable  bool     `json:"modifiable"`
	// AdditionalInfo holds what the line has no field for, such as
	// VISIT_START_DATE_TIME, VISIT_END_DATE_TIME and OPEN_CABINET.
	AdditionalInfo []KeyValue `json:"additionalInfo"`
}

// KeyValue is one entry of an order line's additionalInfo.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// GetOrder reads order orderID. An unknown order gives an error for which
// IsNotFound is true.
func (c *Client) GetOrder(ctx context.Context, orderID string) (*Order, error) {
	op := "get order " + orderID
	if err := checkOrderID(orderID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	resp, err := c.do(ctx, &request{
		op:     op,
		method: http.MethodGet,
		path:   "/colocations/v2/orders/" + url.PathEscape(orderID),
		auth:   true,
		replay: replaySafe,
	})
	if err != nil {
		return nil, err
	}
	// orders-v2.json describes an object but its example is an array of one.
	if b := bytes.TrimSpace(resp.body); len(b) > 0 && b[0] == '[' {
		var os []Order
		if err := decodeJSON(op, resp, &os); err != nil {
			return nil, err
		}
		if len(os) == 0 {
			return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		return &os[0], nil
	}
	var o Order
	if err := decodeJSON(op, resp, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// OrderSummary is an order found by SearchOrdersByReference.
type OrderSummary struct {
	OrderNumber              string    `json:"orderNumber"`
	Status                   string    `json:"orderStatus"` // ENTERED, SUBMITTED, IN_PROGRESS, PENDING_QA, CANCELLED, CLOSED
	Types                    []string  `json:"type"`
	IBXs                     []string  `json:"ibx"`
	CustomerReferenceNumbers []string  `json:"customerReferenceNumbers"`
	CreatedAt                time.Time `json:"-"`
}

// UnmarshalJSON reads a summary, tolerating a missing or malformed time.
func (s *OrderSummary) UnmarshalJSON(b []byte) error {
	type plain OrderSummary
	var w struct {
		plain
		CreatedAt string `json:"createdAt"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = OrderSummary(w.plain)
	s.CreatedAt = parseAPITime(w.CreatedAt)
	return nil
}

// searchPageSize is the largest page retrieve-orders gives.
const searchPageSize = 200

// searchMaxPages stops a server that never says it is done.
const searchMaxPages = 500

type searchRequest struct {
	Filters struct {
		ProductTypes []string `json:"productTypes"`
	} `json:"filters"`
	Source []string `json:"source"`
	Q      string   `json:"q"`
	Page   struct {
		Number int `json:"number"`
		Size   int `json:"size"`
	} `json:"page"`
}

type searchAnswer struct {
	Content []OrderSummary `json:"content"`
	Page    struct {
		TotalPages flexInt `json:"totalPages"`
	} `json:"page"`
}

// flexInt reads a count written as a number or, as some of Equinix's
// published examples do, as a string; anything else reads as 0 (unknown).
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1<<31 {
		*n = 0
		return nil
	}
	*n = flexInt(v)
	return nil
}

// SearchOrdersByReference returns the work visit orders of the last 12 months
// whose customer reference is exactly ref (Equinix's search matches parts of
// references; those are left out). It reads every page. This is how to find
// out whether a create that ended in an *UncertainError made an order.
func (c *Client) SearchOrdersByReference(ctx context.Context, ref string) ([]OrderSummary, error) {
	op := "search orders by reference " + ref
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("%s: empty reference", op)
	}
	var found []OrderSummary
	for page := 0; page < searchMaxPages; page++ {
		var body searchRequest
		body.Filters.ProductTypes = []string{"WORK_VISIT"}
		body.Source = []string{"CUSTOMER_REFERENCE_NUMBER"}
		body.Q = ref
		body.Page.Number = page
		body.Page.Size = searchPageSize
		resp, err := c.do(ctx, &request{
			op:     op,
			method: http.MethodPost,
			path:   "/v1/retrieve-orders",
			body:   body,
			auth:   true,
			replay: replaySafe,
		})
		if err != nil {
			return nil, err
		}
		var a searchAnswer
		if err := decodeJSON(op, resp, &a); err != nil {
			return nil, err
		}
		for _, o := range a.Content {
			if containsFold(o.CustomerReferenceNumbers, ref) {
				found = append(found, o)
			}
		}
		if len(a.Content) == 0 || a.Page.TotalPages > 0 && page+1 >= int(a.Page.TotalPages) ||
			a.Page.TotalPages == 0 && len(a.Content) < searchPageSize {
			return found, nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages of results", op, searchMaxPages)
}

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// parseAPITime reads an RFC 3339 time (with or without fractions); anything
// else gives the zero time.
func parseAPITime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t
}
