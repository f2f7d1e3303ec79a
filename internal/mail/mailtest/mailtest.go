package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options say what the server offers.
type Options struct {
	StartTLS bool // offer STARTTLS
	Implicit bool // TLS from the first byte
	// User and Password, when set, are required through AUTH PLAIN before
	// MAIL FROM.
	User, Password string
}

// Received is one message the server accepted.
type Received struct {
	From, User string
	To         []string
	TLS        bool
	Data       []byte
}

// Cert is a self-signed certificate for 127.0.0.1 and localhost.
type Cert struct {
	TLS  tls.Certificate
	Pool *x509.CertPool
	// CAFile is the certificate as a PEM file, for clients that read one.
	CAFile string
}

// NewCert makes a certificate for the test's lifetime.
func NewCert(tb testing.TB) Cert {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
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
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ca := filepath.Join(tb.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return Cert{TLS: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, Pool: pool, CAFile: ca}
}

// Server is a running test SMTP server.
type Server struct {
	// Addr is host:port.
	Addr string
	opts Options
	mu   sync.Mutex
	msgs []Received
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Start runs a server on 127.0.0.1 for the test's lifetime.
func Start(tb testing.TB, cert Cert, opts Options) *Server {
	tb.Helper()
	ts := &Server{opts: opts}
	srv := smtp.NewServer(backend{ts})
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = logger{tb}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	switch {
	case opts.Implicit:
		l = tls.NewListener(l, tlsConf)
	case opts.StartTLS:
		srv.TLSConfig = tlsConf
	}
	ts.Addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	tb.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ts
}

type logger struct{ tb testing.TB }

func (l logger) Printf(format string, v ...any) { l.tb.Logf(format, v...) }
func (l logger) Println(v ...any)               { l.tb.Log(v...) }

type backend struct{ srv *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{srv: b.srv, msg: Received{TLS: isTLS}, conn: c}, nil
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	msg  Received
}

func (s *session) AuthMechanisms() []string {
	if s.srv.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.opts.User || pass != s.srv.opts.Password {
			return errors.New("invalid credentials")
		}
		s.msg.User = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.User != "" && s.msg.User == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.msg = Received{User: s.msg.User, TLS: s.msg.TLS} }
func (s *session) Logout() error { return nil }

// Message is a parsed email.
type Message struct {
	Subject string
	Header  netmail.Header
	// Parts are the non-attachment bodies by media type ("text/plain",
	// "text/html"), with CRLF line ends made LF.
	Parts       map[string]string
	Attachments []Attachment
}

// Attachment is an attached file.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Parse reads a received message's MIME structure.
func Parse(data []byte) (*Message, error) {
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	out := &Message{Subject: subject, Header: m.Header, Parts: map[string]string{}}
	err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body, out)
	return out, err
}

func walk(contentType, encoding, disposition string, body io.Reader, out *Message) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("Content-Type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"),
				p.Header.Get("Content-Disposition"), p, out); err != nil {
				return err
			}
		}
	}
	if strings.EqualFold(encoding, "base64") {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if disp, dparams, err := mime.ParseMediaType(disposition); err == nil && disp == "attachment" {
		out.Attachments = append(out.Attachments, Attachment{Name: dparams["filename"], ContentType: mediaType, Data: data})
		return nil
	}
	out.Parts[mediaType] = strings.ReplaceAll(string(data), "\r\n", "\n")
	return nil
}
