package equinix

import (
	"errors"
	"strings"
	"testing"
)

// TestConfigHint: a client id without its secret, a secret without its id,
// no credentials at all and anything else each get their own hint.
func TestConfigHint(t *testing.T) {
	t.Parallel()
	_, noCreds := New(Config{Endpoint: "http://127.0.0.1:1"})
	if !errors.Is(noCreds, ErrNoCredentials) {
		t.Fatalf("New without credentials = %v; want ErrNoCredentials", noCreds)
	}
	other := errors.New("bad endpoint")
	for _, tc := range []struct {
		cfg  Config
		err  error
		want string
	}{
		{Config{ClientID: "id"}, other, "the secret stays off the command line"},
		{Config{ClientSecret: "s"}, other, "--client-id"},
		{Config{}, noCreds, "add --sandbox to try it out"},
		{Config{ClientID: "id", ClientSecret: "s"}, other, "check --endpoint"},
	} {
		if got := ConfigHint(tc.cfg, tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("ConfigHint(id %q, %v) = %q; want one containing %q", tc.cfg.ClientID, tc.err, got, tc.want)
		}
	}
}
