package main

import (
	"strings"
	"testing"
)

// TestSMTPURLFlagWithPassword: a password on the command line is refused,
// with where to put it instead, and never printed.
func TestSMTPURLFlagWithPassword(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	code, out, errOut := c.run("submit", "../../samples/contractors.csv", "--sandbox", "--yes", "--now", demoNow,
		"--smtp-url", "smtp://mailer:Sup3rSecretPw@127.0.0.1:1", "--smtp-from", "wv@example.com", "--notify", "ops@example.com")
	if code != exitUsage || !strings.Contains(errOut, "--smtp-url holds a password") || !strings.Contains(errOut, "WVBATCH_SMTP_URL") {
		t.Errorf("--smtp-url with a password: exit %d\n%s", code, errOut)
	}
	if strings.Contains(out+errOut, "Sup3rSecretPw") {
		t.Error("the password was printed")
	}
	// Without a password (it comes from the environment) the flag is fine.
	c.env["WVBATCH_SMTP_PASSWORD"] = "Sup3rSecretPw"
	code, _, errOut = c.run("submit", "../../samples/contractors.csv", "--sandbox", "--yes", "--now", demoNow,
		"--smtp-url", "file:///"+t.TempDir(), "--smtp-from", "wv@example.com", "--notify", "ops@example.com")
	if code == exitUsage || strings.Contains(errOut, "holds a password") {
		t.Errorf("--smtp-url without a password: exit %d\n%s", code, errOut)
	}
}
