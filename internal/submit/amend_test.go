package submit

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
)

func TestOrderNow(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 12, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		answer     string
		open       bool
		start      *time.Time
		cabinet    *bool
		notify     []string
		notifyKnow bool
	}{
		{
			name: "window, cabinet and contacts shown",
			answer: `{"orderId":"1-1","status":"RECEIVED","contacts":[{"type":"ORDERING","registeredUser":"facilities.lead"},
				{"type":"NOTIFICATION","registeredUser":"facilities.lead"},{"type":"NOTIFICATION","registeredUser":"jane.visitor"}],
				"details":[{"productType":"WORK_VISIT","additionalInfo":[{"key":"VISIT_START_DATE_TIME","value":"2027-01-12T08:00:00+01:00"},
				{"key":"OPEN_CABINET","value":"true"}]}]}`,
			open: true, start: &start, cabinet: new(true), notify: []string{"facilities.lead", "jane.visitor"}, notifyKnow: true,
		},
		{
			name:   "closed, nothing shown",
			answer: `{"orderId":"1-1","status":"CLOSED","details":[{"productType":"WORK_VISIT"}]}`,
		},
		{
			name:   "cancelled, unreadable values ignored",
			answer: `{"orderId":"1-1","status":"CANCELLED","details":[{"additionalInfo":[{"key":"VISIT_START_DATE_TIME","value":"soon"},{"key":"OPEN_CABINET","value":"maybe"}]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o equinix.Order
			if err := json.Unmarshal([]byte(tt.answer), &o); err != nil {
				t.Fatal(err)
			}
			n := OrderNow(&o)
			if n.Open != tt.open || (n.Start == nil) != (tt.start == nil) || (n.OpenCabinet == nil) != (tt.cabinet == nil) ||
				fmt.Sprint(n.Notify) != fmt.Sprint(tt.notify) || n.NotifyKnown != tt.notifyKnow || n.End != nil {
				t.Errorf("OrderNow = %+v", n)
			}
			if tt.start != nil && n.Start != nil && !n.Start.Equal(*tt.start) {
				t.Errorf("start %s; want %s", n.Start, tt.start)
			}
			if tt.cabinet != nil && n.OpenCabinet != nil && *n.OpenCabinet != *tt.cabinet {
				t.Errorf("open cabinet %v; want %v", *n.OpenCabinet, *tt.cabinet)
			}
		})
	}
}

func TestIsClosed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("update: %w", &equinix.APIError{Status: 403, Code: "EQ-2016007"}), true},
		{&equinix.APIError{Status: 403, Code: "EQ-2016006"}, false},
		{fmt.Errorf("timeout"), false},
	} {
		if got := IsClosed(tt.err); got != tt.want {
			t.Errorf("IsClosed(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}
