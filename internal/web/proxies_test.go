package web

import (
	"strings"
	"testing"
)

// TestParseTrustedProxies: ranges are masked, a single address is a range
// of one, and anything else is an error naming it.
func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := ParseTrustedProxies([]string{"10.0.0.7/24", " 127.0.0.1 ", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if strings.Join(s, " ") != "10.0.0.0/24 127.0.0.1/32 ::1/128" {
		t.Errorf("ParseTrustedProxies = %v", s)
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/24", "proxy.local"}); err == nil || !strings.Contains(err.Error(), `"proxy.local"`) {
		t.Errorf("ParseTrustedProxies(proxy.local) = %v; want an error naming it", err)
	}
	if got, err := ParseTrustedProxies(nil); err != nil || got != nil {
		t.Errorf("ParseTrustedProxies(nil) = %v, %v", got, err)
	}
}
