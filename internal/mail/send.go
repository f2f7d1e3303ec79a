package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email.
type Message struct {
	To          []string
	Subject     string
	Text, HTML  string // at least one; both make a multipart/alternative
	Attachments []Attachment
}

// Attachment is a file attached to a Message.
type Attachment struct {
	Name        string
	ContentType string // "" = application/octet-stream
	Data        []byte
}

// ContentTypeXLSX is the media type of an .xlsx workbook.
const ContentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Send delivers m through the server cfg names. It fails rather than send
// anything unencrypted when cfg asks for TLS, and its errors never contain
// cfg.Password.
func Send(ctx context.Context, cfg Config, m Message) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	msg, err := m.build(cfg.From)
	if err != nil {
		return err
	}
	if cfg.Outbox != "" {
		return writeOutbox(cfg.Outbox, msg)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConf = cfg.TLSConfig.Clone()
	}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.port()),
		gomail.WithTimeout(cfg.timeout()),
		gomail.WithTLSConfig(tlsConf),
	}
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return redact(fmt.Errorf("mail: %s: %w", cfg, err), cfg.Password)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if strings.Contains(err.Error(), "does not support STARTTLS") {
			return fmt.Errorf("mail: %s: %w", cfg, ErrNoStartTLS)
		}
		return redact(fmt.Errorf("send mail via %s: %w", cfg, err), cfg.Password)
	}
	return nil
}

// redact returns err, or when its text holds the secret, an error of the
// same text with the secret replaced and nothing beneath it to unwrap.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}

func (m *Message) build(from string) (*gomail.Msg, error) {
	if len(m.To) == 0 {
		return nil, errors.New("mail: no recipients")
	}
	for _, to := range m.To {
		if _, err := netmail.ParseAddress(to); err != nil {
			return nil, fmt.Errorf("mail: recipient %q is not an email address", to)
		}
	}
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("mail: the message has no body")
	}
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", from, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("mail: recipients: %w", err)
	}
	msg.Subject(strings.Join(strings.Fields(m.Subject), " "))
	msg.SetDate()
	msg.SetMessageID()
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("mail: attach %s: %w", a.Name, err)
		}
	}
	return msg, nil
}

// writeOutbox writes a message into a folder as <time>-<n>.eml.
func writeOutbox(dir string, msg *gomail.Msg) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mail outbox: %w", err)
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for n := 1; ; n++ {
		p := filepath.Join(dir, fmt.Sprintf("%s-%d.eml", stamp, n))
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mail outbox: %w", err)
		}
		_, err = msg.WriteTo(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("mail outbox %s: %w", p, err)
		}
		return nil
	}
}
