package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// ErrorClass says what a failed request means for the order.
type ErrorClass int

// Error classes. The zero value is Uncertain, the safe assumption.
const (
	// Uncertain: the request may have reached Equinix. The order is searched
	// for by its reference before it is ever sent again.
	Uncertain ErrorClass = iota
	// Retryable: the request was refused or never left (429, 5xx,
	// connection refused); it is safe to send again after a backoff.
	Retryable
	// Final: Equinix refused the request for good (4xx validation or
	// permission); the order is rejected.
	Final
	// Fatal: nothing more will work (refused credentials…); the run stops.
	Fatal
	// Done: the request's effect already holds (e.g. cancelling an order
	// that is already cancelled).
	Done
	// OrderClosed: the order is closed at Equinix (the visit is over): it
	// can be neither changed nor cancelled, now or later.
	OrderClosed
)

func (c ErrorClass) String() string {
	switch c {
	case Uncertain:
		return "uncertain"
	case Retryable:
		return "retryable"
	case Final:
		return "final"
	case Fatal:
		return "fatal"
	case Done:
		return "done"
	case OrderClosed:
		return "order closed"
	}
	return fmt.Sprintf("ErrorClass(%d)", int(c))
}

// ErrorPolicy says what the errors of the API side (a Submitter,
// Canceller or Amender) mean for an order; the API side implements it (for
// Equinix's client, submit.Policy).
type ErrorPolicy interface {
	// Classify tells what an error means for the order.
	Classify(error) ErrorClass
	// RetryAfter returns how long the server asked to wait before the next
	// attempt (Retry-After), or 0; a longer wait than the backoff wins.
	RetryAfter(error) time.Duration
	// ToStored turns an error into what the store keeps of it.
	ToStored(error) runstore.StoredError
}

// defaultPolicy treats every error as Uncertain and keeps its message.
type defaultPolicy struct{}

func (defaultPolicy) Classify(error) ErrorClass      { return Uncertain }
func (defaultPolicy) RetryAfter(error) time.Duration { return 0 }
func (defaultPolicy) ToStored(err error) runstore.StoredError {
	return runstore.StoredError{Message: err.Error()}
}

// classOf is p.Classify, except that a request cut short by a cancelled
// or expired context may have reached the server.
func classOf(p ErrorPolicy, err error) ErrorClass {
	c := p.Classify(err)
	if c == Retryable && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return Uncertain
	}
	return c
}
