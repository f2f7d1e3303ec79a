package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/mail/mailtest"
)

const (
	testUser     = "reports@example.com"
	testPassword = "s3cr3t-P4ss!word"
)

// testWorkbook is a small .xlsx to attach.
func testWorkbook(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetCellValue("Sheet1", "B2", "ordered"); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func configFor(t *testing.T, raw string, pool *x509.CertPool) Config {
	t.Helper()
	cfg, err := ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL: %v", err)
	}
	cfg.From = "wvbatch <visits@example.com>"
	cfg.Timeout = 10 * time.Second
	cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return cfg
}

func TestSend(t *testing.T) {
	t.Parallel()
	cert := mailtest.NewCert(t)
	pool := cert.Pool
	xlsx := testWorkbook(t)
	for _, tc := range []struct {
		name    string
		opts    mailtest.Options
		scheme  string
		creds   string
		wantTLS bool
	}{
		{"starttls with auth", mailtest.Options{StartTLS: true, User: testUser, Password: testPassword}, "smtp", testUser + ":" + testPassword + "@", true},
		{"implicit tls with auth", mailtest.Options{Implicit: true, User: testUser, Password: testPassword}, "smtps", testUser + ":" + testPassword + "@", true},
		{"insecure relay", mailtest.Options{}, "smtp+insecure", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, cert, tc.opts)
			raw := fmt.Sprintf("%s://%s%s", tc.scheme, strings.Replace(tc.creds, "@example.com", "%40example.com", 1), srv.Addr)
			cfg := configFor(t, raw, pool)
			text, html, err := RenderBodies(sampleData())
			if err != nil {
				t.Fatal(err)
			}
			subject := Subject(sampleData())
			err = Send(context.Background(), cfg, Message{
				To: []string{"Ann Smith <ann@example.com>", "ops@example.com"}, Subject: subject, Text: text, HTML: html,
				Attachments: []Attachment{{Name: "roster-report.xlsx", ContentType: ContentTypeXLSX, Data: xlsx}},
			})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.TLS != tc.wantTLS {
				t.Errorf("sent over TLS = %v, want %v", got.TLS, tc.wantTLS)
			}
			if tc.opts.User != "" && got.User != testUser {
				t.Errorf("authenticated as %q, want %q", got.User, testUser)
			}
			if got.From != "visits@example.com" || strings.Join(got.To, ",") != "ann@example.com,ops@example.com" {
				t.Errorf("envelope from %q to %q", got.From, got.To)
			}
			checkMessage(t, got.Data, subject, text, html)
		})
	}
}

// checkMessage parses a received message and checks its subject, bodies and
// attached workbook.
func checkMessage(t *testing.T, data []byte, subject, text, html string) {
	t.Helper()
	m, err := mailtest.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != subject {
		t.Errorf("Subject = %q, want %q", m.Subject, subject)
	}
	if got := m.Parts["text/plain"]; got != text {
		t.Errorf("text part:\n%s\nwant\n%s", got, text)
	}
	if got := m.Parts["text/html"]; got != html {
		t.Errorf("HTML part:\n%s\nwant\n%s", got, html)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(m.Attachments))
	}
	a := m.Attachments[0]
	if a.Name != "roster-report.xlsx" || a.ContentType != ContentTypeXLSX {
		t.Errorf("attachment %q of type %q", a.Name, a.ContentType)
	}
	f, err := excelize.OpenReader(bytes.NewReader(a.Data))
	if err != nil {
		t.Fatalf("open attached workbook: %v", err)
	}
	defer f.Close()
	if v, err := f.GetCellValue("Sheet1", "B2"); err != nil || v != "ordered" {
		t.Errorf("attached workbook B2 = %q, %v; want ordered", v, err)
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	cert := mailtest.NewCert(t)
	pool := cert.Pool
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	creds := "reports%40example.com:" + testPassword + "@"
	for _, tc := range []struct {
		name   string
		opts   *mailtest.Options // nil: nothing listens
		url    func(addr string) string
		want   string
		target error
	}{
		{"no STARTTLS offered", &mailtest.Options{User: testUser, Password: testPassword}, func(a string) string { return "smtp://" + creds + a }, "does not offer STARTTLS", ErrNoStartTLS},
		{"wrong password", &mailtest.Options{StartTLS: true, User: testUser, Password: testPassword},
			func(a string) string { return "smtp://reports%40example.com:" + testPassword + "x@" + a }, "send mail via smtp://reports%40example.com@", nil},
		{"implicit TLS against plain server", &mailtest.Options{User: testUser, Password: testPassword}, func(a string) string { return "smtps://" + creds + a }, "send mail via smtps://", nil},
		{"nothing listening", nil, func(a string) string { return "smtps://" + creds + a }, "send mail via smtps://", nil},
		{"untrusted certificate", &mailtest.Options{StartTLS: true, User: testUser, Password: testPassword}, func(a string) string { return "smtp://" + creds + a }, "certificate", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := closed
			if tc.opts != nil {
				addr = mailtest.Start(t, cert, *tc.opts).Addr
			}
			cfg := configFor(t, tc.url(addr), pool)
			if tc.name == "untrusted certificate" {
				cfg.TLSConfig = nil
			}
			cfg.Timeout = 3 * time.Second
			err := Send(context.Background(), cfg, Message{To: []string{"ann@example.com"}, Subject: "s", Text: "t"})
			if err == nil {
				t.Fatal("Send succeeded")
			}
			t.Logf("error: %v", err)
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(text, testPassword) || strings.Contains(text, "P4ss") {
					t.Errorf("error shows the password: %s", text)
				}
			}
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), "P4ss") {
					t.Errorf("wrapped error shows the password: %s", e)
				}
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %v is not %v", err, tc.target)
			}
		})
	}
}

func TestSendRejectsBadMessages(t *testing.T) {
	t.Parallel()
	cfg := Config{Host: "127.0.0.1", Port: 1, From: "visits@example.com"}
	for _, tc := range []struct {
		name string
		cfg  Config
		m    Message
		want string
	}{
		{"no recipients", cfg, Message{Text: "x"}, "no recipients"},
		{"bad recipient", cfg, Message{To: []string{"ann"}, Text: "x"}, `recipient "ann"`},
		{"no body", cfg, Message{To: []string{"ann@example.com"}}, "no body"},
		{"no sender", Config{Host: "h"}, Message{To: []string{"ann@example.com"}, Text: "x"}, "no sender"},
		{"bad sender", Config{Host: "h", From: "visits"}, Message{To: []string{"ann@example.com"}, Text: "x"}, `sender "visits"`},
		{"no host", Config{From: "visits@example.com"}, Message{To: []string{"ann@example.com"}, Text: "x"}, "no SMTP host"},
		{"password in clear", Config{Host: "h", TLS: TLSNone, Username: "u", Password: testPassword, From: "v@example.com"},
			Message{To: []string{"ann@example.com"}, Text: "x"}, "unencrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Send(context.Background(), tc.cfg, tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), testPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestSendOutbox: a file:// URL writes the message into a folder.
func TestSendOutbox(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "outbox")
	cfg, err := ParseURL("file://" + dir + "?from=visits@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.String() != "file://"+dir {
		t.Errorf("String() = %q", cfg.String())
	}
	for range 2 {
		if err := Send(context.Background(), cfg, Message{To: []string{"ann@example.com"}, Subject: "AM1 work visits", Text: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(names) != 2 {
		t.Fatalf("outbox holds %v (%v), want 2 messages", names, err)
	}
	b, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailtest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "AM1 work visits" || strings.TrimSpace(m.Parts["text/plain"]) != "hello" || m.Header.Get("To") != "<ann@example.com>" {
		t.Errorf("outbox message: subject %q, to %q, body %q", m.Subject, m.Header.Get("To"), m.Parts["text/plain"])
	}
	if _, err := ParseURL("file://host/x"); err == nil {
		t.Error("file://host/x accepted")
	}
}
