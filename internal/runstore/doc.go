// Package runstore keeps wvbatch's state in one bbolt file: runs, their
// orders and row outcomes, every order's state changes, the index of
// Equinix order ids, amendments, mail and report records, the scheduler's
// job state, users and sessions. It upgrades older files, refuses damaged
// ones, checks, backs up, restores, prunes and compacts the file. Sending
// is the queue's (internal/queue), which records each step here.
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
//	run/<run id> "summary" the caller's summary of the run, with the digest of the orders and rows it was made of (summary.go)
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
//
// # Damage and backups
//
// Before bbolt opens the file, its pages are walked as the file holds them,
// each at most once (pages.go): a damaged file is refused as damaged instead
// of making bbolt loop, fault or allocate without bound. Every open Store
// answers backup requests on a Unix socket of its user's (backupsock.go),
// so that a backup is made while a long command has the store open.
package runstore
