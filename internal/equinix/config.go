package equinix

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/backoff"
)

// Defaults applied to a zero Config field.
const (
	EndpointDefault     = "https://api.equinix.com"
	TimeoutDefault      = 30 * time.Second
	RateLimitDefault    = 10 // requests per second
	MaxRetriesDefault   = 4
	RetryBaseDefault    = 500 * time.Millisecond
	RetryMaxDefault     = 30 * time.Second
	RetryMaxWaitDefault = 2 * time.Minute
	UserAgentDefault    = "wvbatch"
)

// Environment variables read by ConfigFromEnv. The names are those of
// Equinix's own tools (terraform-provider-equinix).
const (
	EnvEndpoint     = "EQUINIX_API_ENDPOINT"
	EnvClientID     = "EQUINIX_API_CLIENTID"
	EnvClientSecret = "EQUINIX_API_CLIENTSECRET"
	EnvToken        = "EQUINIX_API_TOKEN"
	EnvTimeout      = "EQUINIX_API_TIMEOUT"
)

// ErrNoCredentials is returned by New when the Config holds neither a client
// id and secret nor a ready token.
var ErrNoCredentials = errors.New("no Equinix API credentials: set " + EnvClientID + " and " +
	EnvClientSecret + " (or " + EnvToken + "), or use --sandbox to try wvbatch without Equinix")

// Config configures a Client. The zero value of every field means its
// default; credentials (ClientID and ClientSecret, or Token) are required.
type Config struct {
	// Endpoint is the API's base URL (default https://api.equinix.com).
	Endpoint string
	// ClientID and ClientSecret are the OAuth2 client credentials from the
	// Equinix Developer Portal ("My Apps").
	ClientID     string
	ClientSecret string
	// Token is a ready access token. It is used first; when Equinix refuses it
	// and client credentials are set, a new token is requested with them.
	Token string

	// Timeout bounds each HTTP request (each attempt) (default 30s).
	Timeout time.Duration
	// RateLimit is the most requests per second this Client sends (default 10);
	// a negative value disables the limit. Burst is how many may go at once
	// (default: RateLimit rounded up, at least 1).
	RateLimit float64
	Burst     int

	// MaxRetries is how many times a failed request is repeated when repeating
	// it is safe (default 4; negative: never).
	MaxRetries int
	// RetryBase and RetryMax shape the exponential backoff with full jitter
	// between retries: attempt n waits a random time in [0, min(RetryMax,
	// RetryBase·2ⁿ)] (defaults 500ms and 30s).
	RetryBase time.Duration
	RetryMax  time.Duration
	// RetryMaxWait is the longest Retry-After the Client sleeps through; a
	// longer one ends the call with an *APIError carrying RetryAfter so the
	// caller can come back later (default 2m).
	RetryMaxWait time.Duration

	// HTTPClient sends the requests (default: a client that does not follow
	// redirects). Its Timeout, if any, applies on top of Timeout.
	HTTPClient *http.Client
	// Now is the clock (default time.Now). It decides when a token is renewed
	// and reads Retry-After dates.
	Now func() time.Time
	// Sleep waits d or until ctx is done (default: a timer). Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one debug line per HTTP request (default: no logging).
	// It never receives a secret, a token or a request body.
	Logger zerolog.Logger
	// UserAgent is sent as the User-Agent header (default "wvbatch").
	UserAgent string
	// Observer, when set, is told of every request, retry, token request
	// and refusal of the credentials (for metrics).
	Observer Observer
}

// withDefaults returns c with every zero field set to its default.
// NormalEndpoint is an API base URL as runs record where they order: its
// scheme and host in lower case, and no trailing slash.
func NormalEndpoint(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u.String()
}

func (c Config) withDefaults() Config {
	c.Endpoint = strings.TrimRight(cmp.Or(strings.TrimSpace(c.Endpoint), EndpointDefault), "/")
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.ClientSecret = strings.TrimSpace(c.ClientSecret)
	c.Token = strings.TrimSpace(c.Token)
	c.Timeout = cmp.Or(c.Timeout, TimeoutDefault)
	c.RateLimit = cmp.Or(c.RateLimit, RateLimitDefault)
	if c.Burst == 0 {
		c.Burst = max(1, int(c.RateLimit+0.999))
	}
	c.MaxRetries = cmp.Or(c.MaxRetries, MaxRetriesDefault)
	c.RetryBase = cmp.Or(c.RetryBase, RetryBaseDefault)
	c.RetryMax = cmp.Or(c.RetryMax, RetryMaxDefault)
	c.RetryMaxWait = cmp.Or(c.RetryMaxWait, RetryMaxWaitDefault)
	c.UserAgent = cmp.Or(c.UserAgent, UserAgentDefault)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = backoff.Sleep
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	return c
}

// validate reports the first setting that cannot work. It expects defaults
// to have been applied.
func (c Config) validate() error {
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return fmt.Errorf("equinix endpoint %q is not a URL: %w", c.Endpoint, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("equinix endpoint %q: the scheme must be https (or http for a local sandbox)", c.Endpoint)
	}
	if u.Host == "" {
		return fmt.Errorf("equinix endpoint %q has no host name", c.Endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("equinix endpoint %q must not have a query or fragment", c.Endpoint)
	}
	switch {
	case c.ClientID != "" && c.ClientSecret == "":
		return fmt.Errorf("equinix client id is set but the client secret is empty: set %s", EnvClientSecret)
	case c.ClientID == "" && c.ClientSecret != "":
		return fmt.Errorf("equinix client secret is set but the client id is empty: set %s", EnvClientID)
	case c.ClientID == "" && c.Token == "":
		return ErrNoCredentials
	}
	if c.Timeout < 0 {
		return fmt.Errorf("equinix timeout %v is negative", c.Timeout)
	}
	if c.RateLimit > 0 && c.Burst < 1 {
		return fmt.Errorf("equinix rate limit burst %d must be at least 1", c.Burst)
	}
	if c.RetryBase < 0 || c.RetryMax < 0 || c.RetryMaxWait < 0 {
		return errors.New("equinix retry durations must not be negative")
	}
	if c.RetryMax < c.RetryBase {
		return fmt.Errorf("equinix retry max %v is shorter than retry base %v", c.RetryMax, c.RetryBase)
	}
	return nil
}

// ConfigFromEnv reads EQUINIX_API_ENDPOINT, EQUINIX_API_CLIENTID,
// EQUINIX_API_CLIENTSECRET, EQUINIX_API_TOKEN and EQUINIX_API_TIMEOUT (whole
// seconds such as "30", or a Go duration such as "1m30s") through getenv,
// usually os.Getenv. Unset variables leave their fields zero. It does not
// require credentials; New does.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Endpoint:     strings.TrimSpace(getenv(EnvEndpoint)),
		ClientID:     strings.TrimSpace(getenv(EnvClientID)),
		ClientSecret: strings.TrimSpace(getenv(EnvClientSecret)),
		Token:        strings.TrimSpace(getenv(EnvToken)),
	}
	if s := strings.TrimSpace(getenv(EnvTimeout)); s != "" {
		d, err := ParseTimeout(s)
		if err != nil {
			return Config{}, fmt.Errorf("%s=%q: %w", EnvTimeout, s, err)
		}
		c.Timeout = d
	}
	return c, nil
}

// ParseTimeout reads a timeout as EQUINIX_API_TIMEOUT writes it: seconds
// ("30", "2.5") or a Go duration ("1m30s"), positive and at most a day.
func ParseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n > 24*3600 {
			return 0, errors.New("longer than a day")
		}
		d = time.Duration(n * float64(time.Second))
	} else {
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("want whole seconds (30) or a duration (1m30s)")
		}
	}
	switch {
	case d <= 0:
		return 0, errors.New("must be positive")
	case d > 24*time.Hour:
		return 0, errors.New("longer than a day")
	}
	return d, nil
}

// String describes c without its secrets: the client secret and the token
// show as REDACTED.
func (c Config) String() string {
	return fmt.Sprintf("equinix.Config{endpoint=%s client_id=%s client_secret=%s token=%s timeout=%v rate_limit=%v max_retries=%d}",
		cmp.Or(c.Endpoint, EndpointDefault), c.ClientID, redacted(c.ClientSecret), redacted(c.Token),
		c.Timeout, c.RateLimit, c.MaxRetries)
}

// GoString makes %#v as safe as %v.
func (c Config) GoString() string { return c.String() }

// MarshalZerologObject logs c without its secrets.
func (c Config) MarshalZerologObject(e *zerolog.Event) {
	e.Str("endpoint", cmp.Or(c.Endpoint, EndpointDefault)).
		Str("client_id", c.ClientID).
		Str("client_secret", redacted(c.ClientSecret)).
		Str("token", redacted(c.Token)).
		Dur("timeout", c.Timeout)
}

// MarshalJSON encodes c without its secrets.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"endpoint":      cmp.Or(c.Endpoint, EndpointDefault),
		"client_id":     c.ClientID,
		"client_secret": redacted(c.ClientSecret),
		"token":         redacted(c.Token),
		"timeout":       c.Timeout.String(),
	})
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "REDACTED"
}

// ConfigHint says what to set when New refuses cfg with err.
func ConfigHint(cfg Config, err error) string {
	switch {
	case cfg.ClientID != "" && cfg.ClientSecret == "":
		return "set " + EnvClientSecret + " (or " + EnvClientSecret + "_FILE, or client_secret in the config file): the secret stays off the command line"
	case cfg.ClientID == "" && cfg.ClientSecret != "":
		return "set EQUINIX_API_CLIENTID (or --client-id, or client_id in the config file)"
	case errors.Is(err, ErrNoCredentials):
		return "set EQUINIX_API_CLIENTID and " + EnvClientSecret + " (or " + EnvClientSecret + "_FILE), or add --sandbox to try it out"
	}
	return "check --endpoint, --timeout, --rate and the EQUINIX_API_* settings"
}
