package mail

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, err := Resolve(Settings{Getenv: getenv}); !errors.Is(err, ErrNoServer) {
		t.Errorf("nothing set: %v, want ErrNoServer", err)
	}
	file := func() (string, string, error) { return "smtp://file.example:587", "file@example.com", nil }
	cfg, err := Resolve(Settings{Getenv: getenv, File: file})
	if err != nil || cfg.Host != "file.example" || cfg.From != "file@example.com" {
		t.Errorf("from the file: %+v, %v", cfg, err)
	}
	env["WVBATCH_SMTP_URL"] = "smtp://ann@env.example:587"
	env["WVBATCH_SMTP_PASSWORD"] = "pw-env"
	cfg, err = Resolve(Settings{Getenv: getenv, File: file})
	if err != nil || cfg.Host != "env.example" || cfg.From != "file@example.com" || cfg.Password != "pw-env" {
		t.Errorf("the environment over the file: %+v, %v", cfg, err)
	}
	cfg, err = Resolve(Settings{URL: "smtps://bob@flag.example:465", From: "flag@example.com", Getenv: getenv, File: file})
	if err != nil || cfg.Host != "flag.example" || cfg.From != "flag@example.com" {
		t.Errorf("the flags over both: %+v, %v", cfg, err)
	}
	if _, err := Resolve(Settings{URL: "smtp://bob@flag.example:587", Getenv: getenv}); err == nil || !strings.Contains(err.Error(), "no sender address") {
		t.Errorf("no sender: %v", err)
	}
	broken := func() (string, string, error) { return "", "", errors.New("config file: broken") }
	if _, err := Resolve(Settings{URL: "smtp://bob@flag.example:587", Getenv: getenv, File: broken}); err == nil || err.Error() != "config file: broken" {
		t.Errorf("a config file that cannot be read: %v", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(Settings{URL: "smtp://bob@flag.example:587", From: "a@example.com", CAFile: ca, Getenv: getenv})
	if err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") || strings.Contains(err.Error(), "pw-env") {
		t.Errorf("a CA file with no certificate: %v", err)
	}
}

func TestHint(t *testing.T) {
	if h := Hint(fmt.Errorf("send: %w", ErrNoServer)); !strings.HasPrefix(h, "set WVBATCH_SMTP_URL") {
		t.Errorf("no server: %q", h)
	}
	if h := Hint(ErrNoStartTLS); !strings.HasPrefix(h, "use smtps://") {
		t.Errorf("no STARTTLS: %q", h)
	}
	if h := Hint(errors.New("dial: refused")); h != "check the SMTP settings and that the server is reachable" {
		t.Errorf("other: %q", h)
	}
}
