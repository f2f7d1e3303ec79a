// Package backoff owns the waits between attempts at a request: how long
// (an exponential ceiling with jitter) and the wait itself, which ends early
// when its context does.
package backoff
