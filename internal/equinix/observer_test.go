package equinix

import "testing"

func TestOpName(t *testing.T) {
	for path, want := range map[string]string{
		"/oauth2/v1/token":                          "POST /oauth2/v1/token",
		"/colocations/v2/orders/workVisits":         "POST /colocations/v2/orders/workVisits",
		"/colocations/v2/orders/1-123456/cancel":    "POST /colocations/v2/orders/{id}/cancel",
		"/colocations/v2/orders/workVisits/1-98765": "POST /colocations/v2/orders/workVisits/{id}",
	} {
		if got := opName(&request{method: "POST", path: path}); got != want {
			t.Errorf("opName(%s) = %q, want %q", path, got, want)
		}
	}
}
