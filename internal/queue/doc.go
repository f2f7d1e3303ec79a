// Package queue is the durable queue: it places, cancels and amends a
// run's orders exactly once, with bounded concurrency, a rate limit,
// retries with backoff and resume, recording every step in the store
// (internal/runstore) before it is taken.
//
// What an error from the API means (retry, search, reject, stop) is not
// the queue's to know: the API side implements ErrorPolicy.
package queue
