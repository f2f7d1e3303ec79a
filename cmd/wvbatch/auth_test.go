package main

import (
	"context"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestRefusedCredentialsHint: refused credentials stop the command with a
// hint about the credentials that were used.
func TestRefusedCredentialsHint(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(sandbox.Config{StartAt: crashStart})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ready token", map[string]string{"EQUINIX_API_TOKEN": "expired-token-1234"}, "the token in EQUINIX_API_TOKEN was refused"},
		{"client secret", map[string]string{"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": "wrong-secret-5678"}, "check EQUINIX_API_CLIENTID and EQUINIX_API_CLIENTSECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"EQUINIX_API_ENDPOINT": url}
			for k, v := range tc.env {
				env[k] = v
			}
			c := newCLI(t, env)
			code, out, errOut := c.run("validate", "../../samples/contractors.csv", "--online", "--now", demoNow, "--report-dir", t.TempDir())
			if code != exitFailure || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and a hint saying %q", code, errOut, exitFailure, tc.want)
			}
			for _, secret := range []string{"expired-token-1234", "wrong-secret-5678"} {
				if strings.Contains(out+errOut, secret) {
					t.Errorf("the output shows %q", secret)
				}
			}
		})
	}
}
