package submit

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// CodeCannotUpdate is Equinix's answer to an update or cancel of an order
// that is closed or cancelled.
const CodeCannotUpdate = "EQ-2016007"

// Update sends one order's change (PATCH). It is sent once: when it may
// have been applied but no clear answer came, the queue reads the order back
// before sending it again.
func (a API) Update(ctx context.Context, orderID string, c runstore.Change) error {
	u := &equinix.WorkVisitUpdate{VisitStartDateTime: c.Start, VisitEndDateTime: c.End, OpenCabinet: c.OpenCabinet}
	if c.Notify != nil {
		u.NotificationContacts = []equinix.Contact{{Type: equinix.ContactNotification, RegisteredUsers: c.Notify}}
	}
	return a.Client.UpdateWorkVisitOnce(ctx, orderID, u)
}

// Current reads an order back: its state, and the window and open-cabinet
// flag of its work visit lines where the answer gives them, and its
// notification contacts.
func (a API) Current(ctx context.Context, orderID string) (queue.OrderNow, error) {
	o, err := a.Client.GetOrder(ctx, orderID)
	if err != nil {
		return queue.OrderNow{}, err
	}
	return OrderNow(o), nil
}

// OrderNow is what an order read back says about the fields an amendment
// changes.
func OrderNow(o *equinix.Order) queue.OrderNow {
	n := queue.OrderNow{
		Status: string(o.Status),
		Open:   o.Status != equinix.StatusClosed && o.Status != equinix.StatusCancelled,
	}
	for _, l := range o.Details {
		if l.ProductType != "" && l.ProductType != "WORK_VISIT" {
			continue
		}
		for _, kv := range l.AdditionalInfo {
			v := strings.TrimSpace(kv.Value)
			switch strings.ToUpper(kv.Key) {
			case "VISIT_START_DATE_TIME":
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					t = t.UTC()
					n.Start = &t
				}
			case "VISIT_END_DATE_TIME":
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					t = t.UTC()
					n.End = &t
				}
			case "OPEN_CABINET":
				if b, err := strconv.ParseBool(v); err == nil {
					n.OpenCabinet = &b
				}
			}
		}
		break
	}
	for _, c := range o.Contacts {
		if c.Type == equinix.ContactNotification {
			n.NotifyKnown = true
			if c.RegisteredUser != "" {
				n.Notify = append(n.Notify, c.RegisteredUser)
			}
		}
	}
	return n
}

// IsClosed tells whether err means the order is closed or cancelled and can
// no longer be changed.
func IsClosed(err error) bool {
	var ae *equinix.APIError
	return errors.As(err, &ae) && ae.Code == CodeCannotUpdate
}
