package equinix

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// outage follows whether Equinix answers: it starts at the first attempt
// that got no answer, a 5xx or a 429, and ends at the first other answer.
type outage struct {
	mu    sync.Mutex
	since time.Time // zero while Equinix answers
	cause string    // what the latest failed attempt met
}

func (o *outage) failed(now time.Time, cause string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		o.since = now
	}
	o.cause = cause
}

func (o *outage) answered() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.since, o.cause = time.Time{}, ""
}

// Outage tells how long Equinix has been failing to answer (no connection,
// timeouts, 5xx or 429 on every attempt since) and what the latest attempt
// met, e.g. "connection refused"; down is 0 while it answers.
func (c *Client) Outage() (down time.Duration, cause string) {
	c.down.mu.Lock()
	defer c.down.mu.Unlock()
	if c.down.since.IsZero() {
		return 0, ""
	}
	return max(c.cfg.Now().Sub(c.down.since), 0), c.down.cause
}

// track records what one attempt met.
func (c *Client) track(a attempt) {
	switch {
	case a.err != nil:
		if errors.Is(a.err, context.Canceled) {
			return
		}
		c.down.failed(c.cfg.Now(), transportCause(a.err))
	case a.apiErr != nil && (a.apiErr.Status >= 500 || a.apiErr.Status == http.StatusTooManyRequests):
		c.down.failed(c.cfg.Now(), "HTTP "+strconv.Itoa(a.apiErr.Status)+" "+http.StatusText(a.apiErr.Status))
	default:
		c.down.answered()
	}
}

// transportCause names a failure to get an answer in a few words.
func transportCause(err error) string {
	var ne net.Error
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.As(err, &dns):
		return "name not resolved (" + dns.Name + ")"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within the timeout"
	}
	return err.Error()
}
