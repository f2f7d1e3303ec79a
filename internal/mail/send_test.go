package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/xuri/excelize/v2"
)

const (
	testUser     = "reports@example.com"
	testPassword = "s3cr3t-P4ss!word"
)

// testCert returns a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wvbatch test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

type serverOpts struct {
	startTLS bool // offer STARTTLS
	implicit bool // TLS from the first byte
	auth     bool // require AUTH PLAIN
}

// received is one message the test server accepted.
type received struct {
	from, user string
	to         []string
	tls        bool
	data       []byte
}

type testServer struct {
	addr string
	opts serverOpts
	mu   sync.Mutex
	msgs []received
}

func (s *testServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// startServer runs an SMTP server on 127.0.0.1 for the test's lifetime.
func startServer(t *testing.T, cert tls.Certificate, opts serverOpts) *testServer {
	t.Helper()
	ts := &testServer{opts: opts}
	srv := smtp.NewServer(ts)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = testLogger{t}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case opts.implicit:
		l = tls.NewListener(l, tlsConf)
	case opts.startTLS:
		srv.TLSConfig = tlsConf
	}
	ts.addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ts
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf(format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(v...) }

// NewSession implements smtp.Backend.
func (s *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, msg: received{tls: isTLS}, conn: c}, nil
}

type session struct {
	srv  *testServer
	conn *smtp.Conn
	msg  received
}

func (s *session) AuthMechanisms() []string {
	if !s.srv.opts.auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != testUser || pass != testPassword {
			return errors.New("invalid credentials")
		}
		s.msg.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.auth && s.msg.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = b
	_, s.msg.tls = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.msg = received{user: s.msg.user, tls: s.msg.tls} }
func (s *session) Logout() error { return nil }

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
	cert, pool := testCert(t)
	xlsx := testWorkbook(t)
	for _, tc := range []struct {
		name    string
		opts    serverOpts
		scheme  string
		creds   string
		wantTLS bool
	}{
		{"starttls with auth", serverOpts{startTLS: true, auth: true}, "smtp", testUser + ":" + testPassword + "@", true},
		{"implicit tls with auth", serverOpts{implicit: true, auth: true}, "smtps", testUser + ":" + testPassword + "@", true},
		{"insecure relay", serverOpts{}, "smtp+insecure", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, cert, tc.opts)
			raw := fmt.Sprintf("%s://%s%s", tc.scheme, strings.Replace(tc.creds, "@example.com", "%40example.com", 1), srv.addr)
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
			msgs := srv.messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.tls != tc.wantTLS {
				t.Errorf("sent over TLS = %v, want %v", got.tls, tc.wantTLS)
			}
			if tc.opts.auth && got.user != testUser {
				t.Errorf("authenticated as %q, want %q", got.user, testUser)
			}
			if got.from != "visits@example.com" || strings.Join(got.to, ",") != "ann@example.com,ops@example.com" {
				t.Errorf("envelope from %q to %q", got.from, got.to)
			}
			checkMessage(t, got.data, subject, text, html)
		})
	}
}

// checkMessage parses a received message and checks its subject, bodies and
// attached workbook.
func checkMessage(t *testing.T, data []byte, subject, text, html string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	gotSubject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || gotSubject != subject {
		t.Errorf("Subject = %q (%v), want %q", gotSubject, err, subject)
	}
	parts := map[string][]byte{}
	var attachments []attachmentPart
	walkMIME(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body, parts, &attachments)
	if got := normalizeNewlines(string(parts["text/plain"])); got != text {
		t.Errorf("text part:\n%s\nwant\n%s", got, text)
	}
	if got := normalizeNewlines(string(parts["text/html"])); got != html {
		t.Errorf("HTML part:\n%s\nwant\n%s", got, html)
	}
	if len(attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(attachments))
	}
	a := attachments[0]
	if a.name != "roster-report.xlsx" || a.contentType != ContentTypeXLSX {
		t.Errorf("attachment %q of type %q", a.name, a.contentType)
	}
	f, err := excelize.OpenReader(bytes.NewReader(a.data))
	if err != nil {
		t.Fatalf("open attached workbook: %v", err)
	}
	defer f.Close()
	if v, err := f.GetCellValue("Sheet1", "B2"); err != nil || v != "ordered" {
		t.Errorf("attached workbook B2 = %q, %v; want ordered", v, err)
	}
}

type attachmentPart struct {
	name, contentType string
	data              []byte
}

func walkMIME(t *testing.T, contentType, encoding, disposition string, body io.Reader, parts map[string][]byte, atts *[]attachmentPart) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			walkMIME(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"),
				p.Header.Get("Content-Disposition"), p, parts, atts)
		}
	}
	if strings.EqualFold(encoding, "base64") {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if disp, dparams, err := mime.ParseMediaType(disposition); err == nil && disp == "attachment" {
		*atts = append(*atts, attachmentPart{name: dparams["filename"], contentType: mediaType, data: data})
		return
	}
	parts[mediaType] = data
}

func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestSendFailures(t *testing.T) {
	t.Parallel()
	cert, pool := testCert(t)
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
		opts   *serverOpts // nil: nothing listens
		url    func(addr string) string
		want   string
		target error
	}{
		{"no STARTTLS offered", &serverOpts{auth: true}, func(a string) string { return "smtp://" + creds + a }, "does not offer STARTTLS", ErrNoStartTLS},
		{"wrong password", &serverOpts{startTLS: true, auth: true},
			func(a string) string { return "smtp://reports%40example.com:" + testPassword + "x@" + a }, "send mail via smtp://reports%40example.com@", nil},
		{"implicit TLS against plain server", &serverOpts{auth: true}, func(a string) string { return "smtps://" + creds + a }, "send mail via smtps://", nil},
		{"nothing listening", nil, func(a string) string { return "smtps://" + creds + a }, "send mail via smtps://", nil},
		{"untrusted certificate", &serverOpts{startTLS: true, auth: true}, func(a string) string { return "smtp://" + creds + a }, "certificate", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := closed
			if tc.opts != nil {
				addr = startServer(t, cert, *tc.opts).addr
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
