package mail

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how a connection to the SMTP server is encrypted.
type TLSMode int

const (
	// TLSStartTLS connects in plain text and requires the server to offer
	// STARTTLS before anything else is sent (smtp://, port 587).
	TLSStartTLS TLSMode = iota
	// TLSImplicit speaks TLS from the first byte (smtps://, port 465).
	TLSImplicit
	// TLSNone sends everything unencrypted (smtp+insecure://, port 25): for
	// a relay on the local machine or network only.
	TLSNone
)

// String returns the mode's URL scheme.
func (m TLSMode) String() string {
	switch m {
	case TLSStartTLS:
		return "smtp"
	case TLSImplicit:
		return "smtps"
	case TLSNone:
		return "smtp+insecure"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// Default ports by mode, and the default time limit of one send.
const (
	PortSubmission  = 587
	PortSubmissions = 465
	PortSMTP        = 25
	DefaultTimeout  = 30 * time.Second
)

// Config says where and how to send mail. The zero Timeout means
// DefaultTimeout and the zero Port the mode's default port.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      TLSMode
	// From is the sender's address, e.g. "wvbatch <visits@example.com>".
	From    string
	Timeout time.Duration
	// TLSConfig, when set, is used for the TLS connection (e.g. to trust
	// a private CA); its ServerName defaults to Host.
	TLSConfig *tls.Config
	// Outbox, when set, is a folder that receives each message as an .eml
	// file instead of a server (a file:// URL): for previews and demos.
	Outbox string
}

// ErrNoStartTLS means the server of an smtp:// URL does not offer STARTTLS;
// nothing was sent, not even the credentials.
var ErrNoStartTLS = errors.New("the SMTP server does not offer STARTTLS, which smtp:// requires " +
	"(use smtps:// for a server that speaks TLS directly, or smtp+insecure:// for a local relay without TLS)")

// ParseURL reads SMTP settings from a URL:
//
//	smtp://user:pass@host:587            STARTTLS required
//	smtps://user:pass@host:465           TLS from the start
//	smtp+insecure://host:25              no TLS (a local relay)
//	file:///var/tmp/outbox               no server: .eml files in a folder
//
// The user name and password must be percent-encoded where they hold
// characters such as @ : / %. A query parameter from=address sets From;
// timeout=30s sets Timeout. Errors never repeat the password.
func ParseURL(raw string) (Config, error) { return ParseURLPassword(raw, "") }

// ParseURLPassword is ParseURL for a URL whose password is kept apart
// (smtp://user@host:587 and the password from a file): a non-empty password
// is the user's. A URL that has a password of its own as well is refused.
func ParseURLPassword(raw, password string) (Config, error) {
	var c Config
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Parse's errors quote the whole URL, password included.
		return c, urlError(err)
	}
	switch u.Scheme {
	case "smtp":
		c.TLS = TLSStartTLS
	case "smtps":
		c.TLS = TLSImplicit
	case "smtp+insecure":
		c.TLS = TLSNone
	case "file":
		if u.Host != "" || u.Path == "" {
			return c, errors.New("SMTP URL: write a folder as file:///path/to/outbox")
		}
		c.Outbox = u.Path
		c.From = u.Query().Get("from")
		return c, nil
	case "":
		return c, errors.New("SMTP URL: no scheme: write smtp://host, smtps://host or smtp+insecure://host")
	default:
		return c, fmt.Errorf("SMTP URL: unsupported scheme %q: use smtp:// (STARTTLS), smtps:// (TLS) or smtp+insecure:// (no TLS)", u.Scheme)
	}
	if u.Opaque != "" {
		return c, fmt.Errorf("SMTP URL: write %s://host, with two slashes", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("SMTP URL: no host name")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("SMTP URL: port %q is not a number from 1 to 65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if password != "" {
		if c.Password != "" {
			return c, errors.New("SMTP URL: the URL has a password and a separate password is set too: keep one")
		}
		c.Password = password
	}
	if u.Path != "" && u.Path != "/" {
		return c, fmt.Errorf("SMTP URL: unexpected path %q (a password with / must be written %%2F)", u.Path)
	}
	if u.Fragment != "" {
		return c, errors.New("SMTP URL: unexpected #fragment (a password with # must be written %23)")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, errors.New("SMTP URL: the query after ? is malformed")
	}
	for k, v := range q {
		switch k {
		case "from":
			c.From = v[len(v)-1]
		case "timeout":
			d, err := time.ParseDuration(v[len(v)-1])
			if err != nil || d <= 0 {
				return c, fmt.Errorf("SMTP URL: timeout %q is not a duration like 30s", v[len(v)-1])
			}
			c.Timeout = d
		default:
			return c, fmt.Errorf("SMTP URL: unknown parameter %q (known: from, timeout)", k)
		}
	}
	if err := c.checkCredentials(); err != nil {
		return c, err
	}
	return c, nil
}

// urlError describes a url.Parse error without the URL it quotes.
func urlError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return errors.New("SMTP URL: not a valid URL")
	}
	var esc url.EscapeError
	var host url.InvalidHostError
	switch {
	case errors.As(ue.Err, &esc):
		return errors.New("SMTP URL: an invalid %-escape: a % in a user name or password must be percent-encoded as %25")
	case errors.As(ue.Err, &host):
		return errors.New("SMTP URL: the host name has an invalid character")
	case strings.Contains(ue.Err.Error(), "invalid port"):
		return errors.New("SMTP URL: the port is not a number (a password with : @ / ? or # must be percent-encoded)")
	case strings.Contains(ue.Err.Error(), "userinfo"):
		return errors.New("SMTP URL: the user name or password has a character that must be percent-encoded")
	}
	return errors.New("SMTP URL: not a valid URL (characters such as @ : / ? # % in a password must be percent-encoded)")
}

func (c *Config) checkCredentials() error {
	switch {
	case c.Password != "" && c.Username == "":
		return errors.New("SMTP URL: a password without a user name")
	case c.Username != "" && c.Password == "":
		return fmt.Errorf("SMTP URL: user %q has no password", c.Username)
	case c.Username != "" && c.TLS == TLSNone:
		return errors.New("SMTP URL: smtp+insecure:// would send the password unencrypted: use smtp:// or smtps://, or a relay that needs no login")
	}
	return nil
}

// validate checks a Config before a send.
func (c *Config) validate() error {
	if c.Outbox != "" {
		if c.From == "" {
			return errors.New("mail: no sender address (From)")
		}
		return nil
	}
	if c.Host == "" {
		return errors.New("mail: no SMTP host")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("mail: SMTP port %d is out of range", c.Port)
	}
	if c.TLS < TLSStartTLS || c.TLS > TLSNone {
		return fmt.Errorf("mail: unknown TLS mode %d", int(c.TLS))
	}
	if c.Timeout < 0 {
		return errors.New("mail: negative timeout")
	}
	if err := c.checkCredentials(); err != nil {
		return errors.New("mail: " + strings.TrimPrefix(err.Error(), "SMTP URL: "))
	}
	if c.From == "" {
		return errors.New("mail: no sender address (From)")
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("mail: sender %q is not an email address", c.From)
	}
	return nil
}

func (c *Config) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.TLS {
	case TLSImplicit:
		return PortSubmissions
	case TLSNone:
		return PortSMTP
	}
	return PortSubmission
}

func (c *Config) timeout() time.Duration { return cmp.Or(c.Timeout, DefaultTimeout) }

// String returns the settings as a URL without the password, e.g.
// "smtp://reports@mail.example.com:587".
func (c Config) String() string {
	if c.Outbox != "" {
		return (&url.URL{Scheme: "file", Path: c.Outbox}).String()
	}
	u := url.URL{Scheme: c.TLS.String(), Host: net.JoinHostPort(c.Host, strconv.Itoa(c.port()))}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	return u.String()
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return "mail.Config(" + c.String() + ")" }
