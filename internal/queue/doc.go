// Package queue keeps a run's orders in a bbolt file and submits them exactly once, with bounded concurrency, retries and resume.
//
// # Layout
//
// The store is one bbolt file. Records are JSON; numbers used as keys are
// 8-byte big-endian, so cursors walk them in order.
//
//	meta                   "schema" → schema version (decimal)
//	runs                   run id → Run
//	run/<run id>/orders    seq → Order (without its body)
//	run/<run id>/keys      order key → seq
//	run/<run id>/bodies    seq → request body
//	run/<run id>/rows      roster row → RowOutcome
//	visitors               visitor key → Claim
//	orderids               Equinix order id → run id, NUL, order key (FindOrder)
//	schedule               job name → JobState (created by its first write, see schedule.go)
//
// A run's record in "runs" is written last by CreateRun: a run whose record
// is missing was never completely written and is written again from scratch.
//
// # Durability
//
// Every state change is committed, with fsync, before the call that makes it
// returns. Changes made at the same time by concurrent callers are gathered
// into one transaction (group commit), so tracking many requests in flight
// costs one fsync per batch rather than one per change.
package queue
