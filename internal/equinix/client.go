package equinix

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/wvbatch/wvbatch/internal/backoff"
)

// maxBody bounds how much of an answer is read.
const maxBody = 16 << 20

// Client calls the Equinix APIs. It is safe for concurrent use.
//
// Which calls are repeated after a failure:
//   - A 429 answer is repeated after its Retry-After (or the backoff) for
//     every call: Equinix did not process it.
//   - A 401 answer renews the access token and repeats the call once.
//   - A 5xx answer, a timeout or a broken connection is repeated with backoff
//     for reads (GetOrder, SearchOrdersByReference, Locations, Users), token
//     requests, UpdateWorkVisit (it sets absolute values, so sending it twice
//     changes nothing more) and CancelOrder (a second cancel of an order the
//     first one cancelled is reported as success, see CancelOrder).
//   - CreateWorkVisit is repeated only when Equinix cannot have received it
//     (a 429, a 401, or a connection that failed before anything was
//     written). Otherwise it returns an *UncertainError: the caller must look
//     the order up by its reference (SearchOrdersByReference) before sending
//     it again.
type Client struct {
	cfg     Config
	hc      *http.Client
	limiter *rate.Limiter
	log     zerolog.Logger
	tokens  tokenSource
	down    outage
}

// MaxIdleConnsPerHost is how many idle connections to the API the client
// keeps for reuse: enough for every order in flight at the highest
// concurrency people use.
const MaxIdleConnsPerHost = 128

// New returns a Client for cfg. It fails with ErrNoCredentials when cfg has
// neither client credentials nor a token, and with a precise error for any
// other setting that cannot work. It sends nothing.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		// Keep a connection per request in flight: the default keeps two
		// per host, and concurrent orders would each open a new one.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = MaxIdleConnsPerHost
		tr.MaxIdleConns = MaxIdleConnsPerHost
		hc = &http.Client{
			Transport: tr,
			// A redirect would turn a POST into a GET or send the order
			// elsewhere; report it instead (see unexpectedStatus).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	limiter := rate.NewLimiter(rate.Inf, 0)
	if cfg.RateLimit > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), cfg.Burst)
	}
	c := &Client{cfg: cfg, hc: hc, limiter: limiter, log: cfg.Logger}
	c.tokens = tokenSource{client: c, token: cfg.Token, creds: cfg.ClientID != ""}
	return c, nil
}

// String describes c without its secrets.
func (c *Client) String() string { return "equinix.Client{" + c.cfg.String() + "}" }

// GoString makes %#v as safe as %v.
func (c *Client) GoString() string { return c.String() }

// replayPolicy says whether a request may be sent again after it may have
// reached Equinix.
type replayPolicy int

const (
	replaySafe  replayPolicy = iota // reads, token, update, cancel
	replayNever                     // create: a second send could order twice
)

// request is one API call.
type request struct {
	op     string // what the call does, for errors: "get order 1-123"
	method string
	path   string
	query  url.Values
	body   any
	auth   bool // send the bearer token
	token  bool // the token call: refusals become *AuthError
	replay replayPolicy

	// maybeSent is set by do when an attempt may have reached Equinix and
	// been acted on (no answer, or a 5xx answer).
	maybeSent bool
}

// response is a 2xx answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// attempt is what one send produced.
type attempt struct {
	resp   *response
	apiErr *APIError // for a non-2xx answer
	sent   bool      // the request may have reached Equinix
	err    error     // transport failure
}

// do sends r, repeating it as the Client's retry rules allow (see Client),
// and returns its 2xx answer or an error: *APIError, *AuthError,
// *UncertainError, a transport error (IsRetryable) or the context's error.
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("%s: encode request: %w", r.op, err)
		}
	}
	retries, renewed := 0, false
	for n := 1; ; n++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, c.giveUp(ctx, r, err)
		}
		var token string
		if r.auth {
			var err error
			if token, err = c.tokens.get(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, c.giveUp(ctx, r, ctx.Err())
				}
				return nil, fmt.Errorf("%s: %w", r.op, err)
			}
		}
		a := c.send(ctx, r, payload, token, n)
		c.track(a)
		var wait time.Duration
		switch {
		case a.err != nil:
			r.maybeSent = r.maybeSent || a.sent
			if ctx.Err() != nil {
				return nil, c.giveUp(ctx, r, ctx.Err())
			}
			if r.replay == replayNever && a.sent {
				return nil, &UncertainError{Op: r.op, Err: a.err}
			}
			if retries >= c.cfg.MaxRetries {
				return nil, &transportError{op: r.op, err: a.err}
			}
			wait = c.backoff(retries)

		case a.resp != nil:
			return a.resp, nil

		case a.apiErr.Status == http.StatusUnauthorized && r.auth && !renewed:
			// The token expired early or was revoked: renew it and repeat
			// once. Equinix did not process the call.
			renewed = true
			c.tokens.invalidate(token)
			continue

		case a.apiErr.Status == http.StatusTooManyRequests:
			wait = a.apiErr.RetryAfter
			if wait == 0 {
				wait = c.backoff(retries)
				a.apiErr.RetryAfter = wait
			}
			if retries >= c.cfg.MaxRetries || wait > c.cfg.RetryMaxWait {
				return nil, c.final(r, a.apiErr)
			}

		case a.apiErr.Status >= 500:
			r.maybeSent = true
			if r.replay == replayNever {
				return nil, &UncertainError{Op: r.op, Err: a.apiErr}
			}
			if retries >= c.cfg.MaxRetries {
				return nil, c.final(r, a.apiErr)
			}
			wait = a.apiErr.RetryAfter
			if wait == 0 || wait > c.cfg.RetryMaxWait {
				wait = c.backoff(retries)
			}

		default:
			return nil, c.final(r, a.apiErr)
		}
		retries++
		c.cfg.Observer.Retry(opName(r), retryReason(a), wait)
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return nil, c.giveUp(ctx, r, err)
		}
	}
}

// final turns an error answer that is not repeated into the error do
// returns: a refusal of the credentials, or the *APIError wrapped with what
// the call was doing.
func (c *Client) final(r *request, e *APIError) error {
	if r.token {
		switch e.Status {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			c.cfg.Observer.CredentialsRefused()
			return &AuthError{Status: e.Status, Code: e.Code, Message: e.Message}
		}
	}
	return fmt.Errorf("%s: %w", r.op, e)
}

// giveUp wraps the caller's cancellation; a create that may have been sent
// becomes uncertain.
func (c *Client) giveUp(ctx context.Context, r *request, err error) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	if r.replay == replayNever && r.maybeSent {
		return &UncertainError{Op: r.op, Err: err}
	}
	return fmt.Errorf("%s: %w", r.op, err)
}

// send makes one HTTP request.
func (c *Client) send(ctx context.Context, r *request, payload []byte, token string, n int) attempt {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	u := c.cfg.Endpoint + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	req, err := http.NewRequestWithContext(actx, r.method, u, body)
	if err != nil {
		return attempt{err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	start := time.Now()
	res, err := c.hc.Do(req)
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	c.cfg.Observer.Request(opName(r), status, time.Since(start))
	if err != nil {
		c.log.Debug().Str("method", r.method).Str("path", r.path).Int("attempt", n).
			Dur("duration", time.Since(start)).Err(err).Msg("equinix request failed")
		return attempt{err: err, sent: wrote.Load()}
	}
	defer res.Body.Close()
	b, readErr := io.ReadAll(io.LimitReader(res.Body, maxBody))
	ev := c.log.Debug().Str("method", r.method).Str("path", r.path).Int("attempt", n).
		Int("status", res.StatusCode).Dur("duration", time.Since(start))

	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if cid := correlationHeader(res.Header); cid != "" {
			ev = ev.Str("correlation_id", cid)
		}
		ev.Msg("equinix request")
		if readErr != nil && !(r.replay == replayNever && res.Header.Get("Location") != "") {
			// The answer was cut off; for a create whose Location header
			// arrived, the header is all that is needed.
			return attempt{err: fmt.Errorf("read answer: %w", readErr), sent: true}
		}
		return attempt{resp: &response{status: res.StatusCode, header: res.Header, body: b}, sent: true}
	}
	e := parseAPIError(res.StatusCode, b)
	e.CorrelationID = cmp.Or(e.CorrelationID, correlationHeader(res.Header))
	if d, ok := parseRetryAfter(res.Header.Get("Retry-After"), c.cfg.Now()); ok {
		e.RetryAfter = d
	}
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		e.Message = "Equinix answered with a redirect to " + strconv.Quote(res.Header.Get("Location")) +
			"; check " + EnvEndpoint
	}
	e.redact(c.secrets(token)...)
	ev.Str("code", e.Code).Str("correlation_id", e.CorrelationID).Msg("equinix request")
	return attempt{apiErr: e, sent: true}
}

// secrets lists the strings that must never leave the Client.
func (c *Client) secrets(token string) []string {
	return []string{c.cfg.ClientSecret, c.cfg.Token, token, c.tokens.current()}
}

func correlationHeader(h http.Header) string {
	return cmp.Or(h.Get("X-Correlation-Id"), h.Get("Correlation-Id"))
}

// backoff returns the wait before retry n (0-based): full jitter over an
// exponential ceiling.
func (c *Client) backoff(n int) time.Duration {
	return backoff.Full(backoff.Ceiling(c.cfg.RetryBase, c.cfg.RetryMax, n))
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, true
		}
		return time.Duration(min(n, 24*3600)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, t.Sub(now)), true
}

// transportError is a request that got no answer, after all retries.
type transportError struct {
	op  string
	err error
}

func (e *transportError) Error() string {
	return e.op + ": no answer from Equinix: " + e.err.Error()
}

func (e *transportError) Unwrap() error { return e.err }

// decodeJSON decodes an answer's body into v.
func decodeJSON(op string, resp *response, v any) error {
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("%s: Equinix's answer (HTTP %d) is not the expected JSON: %w", op, resp.status, err)
	}
	return nil
}

// retryReason names why an attempt is repeated, for an Observer.
func retryReason(a attempt) string {
	switch {
	case a.err != nil:
		return "transport"
	case a.apiErr != nil && a.apiErr.Status == http.StatusTooManyRequests:
		return "429"
	}
	return "5xx"
}
