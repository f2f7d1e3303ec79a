package equinix

import (
	"strings"
	"time"
)

// Observer is told what a Client does, for metrics. Its methods must be
// quick and safe for concurrent use. Nothing it is given holds a visitor's
// data or a secret: an operation is the method and the path with its ids
// replaced ("POST /colocations/v2/orders/workVisits", "GET
// /colocations/v2/orders/{id}").
type Observer interface {
	// Request is one HTTP request and its answer's status (0: no answer).
	Request(op string, status int, d time.Duration)
	// Retry is a request about to be repeated after a wait; reason is
	// "429", "5xx" or "transport".
	Retry(op, reason string, wait time.Duration)
	// TokenRefresh is a token request that was answered (ok) or failed.
	TokenRefresh(ok bool)
	// CredentialsRefused is Equinix refusing the client credentials or the
	// ready token.
	CredentialsRefused()
}

type noObserver struct{}

func (noObserver) Request(string, int, time.Duration)  {}
func (noObserver) Retry(string, string, time.Duration) {}
func (noObserver) TokenRefresh(bool)                   {}
func (noObserver) CredentialsRefused()                 {}

// opName is a request's operation for an Observer: its method and path,
// with each segment that is an id (starts with a digit, as "1-123456")
// replaced by {id}.
func opName(r *request) string {
	segs := strings.Split(r.path, "/")
	for i, s := range segs {
		if s != "" && s[0] >= '0' && s[0] <= '9' {
			segs[i] = "{id}"
		}
	}
	return r.method + " " + strings.Join(segs, "/")
}
