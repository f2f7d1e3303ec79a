package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/mail/mailtest"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

func writeSecret(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecretsFromFiles: the Equinix client secret and the SMTP settings are
// read from files (NAME_FILE, as a Kubernetes Secret is mounted) and from
// systemd's credentials folder; a file others may read is used with a
// warning; no secret shows in the output.
func TestSecretsFromFiles(t *testing.T) {
	t.Parallel()
	_, url := startSandbox(t, sandbox.Config{StartAt: crashStart})
	cert := mailtest.NewCert(t)
	smtp := mailtest.Start(t, cert, mailtest.Options{StartTLS: true, User: smtpUser, Password: smtpPassword})

	dir := t.TempDir()
	tight := writeSecret(t, dir, "client-secret", sandbox.DefaultClientSecret+"\n", 0o600)
	loose := writeSecret(t, dir, "client-secret-loose", sandbox.DefaultClientSecret+"\n", 0o644)
	wrong := writeSecret(t, dir, "client-secret-wrong", "wrong-secret-5678\n", 0o600)
	tokenFile := writeSecret(t, dir, "token", "expired-token-1234\n", 0o600)
	creds := t.TempDir()
	writeSecret(t, creds, "EQUINIX_API_CLIENTSECRET", sandbox.DefaultClientSecret+"\n", 0o400)
	smtpURLFile := writeSecret(t, dir, "smtp-url", smtpURL(smtp.Addr)+"\n", 0o600)
	smtpUserOnly := "smtp://" + strings.ReplaceAll(smtpUser, "@", "%40") + "@" + smtp.Addr
	smtpPassFile := writeSecret(t, dir, "smtp-password", smtpPassword+"\n", 0o400)

	base := map[string]string{"EQUINIX_API_ENDPOINT": url, "EQUINIX_API_CLIENTID": sandbox.DefaultClientID,
		"WVBATCH_SMTP_FROM": "visits@example.com", "WVBATCH_SMTP_CA_FILE": cert.CAFile}
	mails := 0
	for _, tc := range []struct {
		name     string
		env      map[string]string
		code     int
		warn     string
		mail     bool
		stderrIs string
	}{
		{"client secret file", map[string]string{"EQUINIX_API_CLIENTSECRET_FILE": tight}, exitOK, "", false, ""},
		{"client secret file others may read", map[string]string{"EQUINIX_API_CLIENTSECRET_FILE": loose}, exitOK, "may be read by others", false, ""},
		{"systemd credential", map[string]string{"CREDENTIALS_DIRECTORY": creds}, exitOK, "", false, ""},
		{"refused secret from a file", map[string]string{"EQUINIX_API_CLIENTSECRET_FILE": wrong}, exitFailure, "", false, "check EQUINIX_API_CLIENTID"},
		{"token file", map[string]string{"EQUINIX_API_CLIENTID": "", "EQUINIX_API_TOKEN_FILE": tokenFile}, exitFailure, "", false, "the token in EQUINIX_API_TOKEN was refused"},
		{"secret twice", map[string]string{"EQUINIX_API_CLIENTSECRET_FILE": tight, "EQUINIX_API_CLIENTSECRET": "x"}, exitUsage, "", false, "both EQUINIX_API_CLIENTSECRET and EQUINIX_API_CLIENTSECRET_FILE"},
		{"missing file", map[string]string{"EQUINIX_API_CLIENTSECRET_FILE": filepath.Join(dir, "nope")}, exitUsage, "", false, "no file"},
		{"SMTP URL file", map[string]string{"EQUINIX_API_CLIENTSECRET_FILE": tight, "WVBATCH_SMTP_URL_FILE": smtpURLFile}, exitOK, "", true, ""},
		{"SMTP password file", map[string]string{"CREDENTIALS_DIRECTORY": creds, "WVBATCH_SMTP_URL": smtpUserOnly, "WVBATCH_SMTP_PASSWORD_FILE": smtpPassFile}, exitOK, "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			c := newCLI(t, env)
			args := []string{"validate", "../../samples/contractors.csv", "--online", "--now", demoNow, "--report-dir", t.TempDir()}
			if tc.mail {
				args = append(args, "--notify", "ann@example.com")
			}
			code, out, errOut := c.run(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			if tc.warn != "" && !strings.Contains(errOut, tc.warn) {
				t.Errorf("stderr %q does not warn %q", errOut, tc.warn)
			}
			if tc.warn == "" && strings.Contains(errOut, "may be read by others") {
				t.Errorf("stderr warns: %q", errOut)
			}
			if tc.stderrIs != "" && !strings.Contains(errOut, tc.stderrIs) || (tc.code != exitOK && !strings.Contains(errOut, "hint: ")) {
				t.Errorf("stderr %q, want %q and a hint", errOut, tc.stderrIs)
			}
			if tc.mail {
				mails++
				if !strings.Contains(errOut, "report emailed to ann@example.com") {
					t.Errorf("no report email: %q", errOut)
				}
			}
			for _, s := range []string{sandbox.DefaultClientSecret, "wrong-secret-5678", "expired-token-1234", smtpPassword, "p4ss"} {
				if strings.Contains(out+errOut, s) {
					t.Errorf("the output shows a secret (%q)", s)
				}
			}
		})
	}
	if got := len(smtp.Messages()); got != mails {
		t.Errorf("the SMTP server got %d messages, want %d", got, mails)
	}
}
