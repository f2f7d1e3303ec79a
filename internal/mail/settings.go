package mail

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/wvbatch/wvbatch/internal/secret"
)

// ErrNoServer means report emails have nowhere to go: no SMTP URL is set.
var ErrNoServer = errors.New("no SMTP server is configured")

// Settings say where the settings of report emails come from. URL, From
// and CAFile (flags) win over WVBATCH_SMTP_URL, WVBATCH_SMTP_FROM and
// WVBATCH_SMTP_CA_FILE, which win over the config file's smtp_url and
// smtp_from. The password may also come from WVBATCH_SMTP_PASSWORD; the
// URL and the password are secrets (see package secret).
type Settings struct {
	URL, From, CAFile string
	Getenv            func(string) string
	// Warn is told of a secret file that others may read.
	Warn func(string)
	// File, when set, reads the config file's smtp_url and smtp_from.
	File func() (url, from string, err error)
}

// Resolve makes the Config of report emails from s. Its errors never hold
// the password.
func Resolve(s Settings) (Config, error) {
	raw, from := s.URL, s.From
	if raw == "" {
		v, err := secret.Lookup(s.Getenv, "WVBATCH_SMTP_URL")
		if err != nil {
			return Config{}, err
		}
		s.warn(v)
		raw = v.Reveal()
	}
	password, err := secret.Lookup(s.Getenv, "WVBATCH_SMTP_PASSWORD")
	if err != nil {
		return Config{}, err
	}
	s.warn(password)
	from = cmp.Or(from, s.Getenv("WVBATCH_SMTP_FROM"))
	if (raw == "" || from == "") && s.File != nil {
		furl, ffrom, err := s.File()
		if err != nil {
			return Config{}, err
		}
		raw, from = cmp.Or(raw, furl), cmp.Or(from, ffrom)
	}
	if raw == "" {
		return Config{}, ErrNoServer
	}
	cfg, err := ParseURLPassword(raw, password.Reveal())
	if err != nil {
		return Config{}, err
	}
	if from != "" {
		cfg.From = from
	}
	if cfg.From == "" {
		return Config{}, errors.New("no sender address for report emails: set --smtp-from or WVBATCH_SMTP_FROM")
	}
	if ca := cmp.Or(s.CAFile, s.Getenv("WVBATCH_SMTP_CA_FILE")); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return Config{}, fmt.Errorf("SMTP CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return Config{}, fmt.Errorf("SMTP CA file %s holds no PEM certificate", ca)
		}
		cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

func (s Settings) warn(v secret.Value) {
	if v.Warning != "" && s.Warn != nil {
		s.Warn(v.Warning)
	}
}

// Hint says how to fix what kept a report email from being sent.
func Hint(err error) string {
	switch {
	case errors.Is(err, ErrNoServer):
		return "set WVBATCH_SMTP_URL (e.g. smtp://user:password@mail.example.com:587) and WVBATCH_SMTP_FROM, or --smtp-url and --smtp-from"
	case errors.Is(err, ErrNoStartTLS):
		return "use smtps:// for a server that speaks TLS directly, or smtp+insecure:// for a local relay"
	}
	return "check the SMTP settings and that the server is reachable"
}
