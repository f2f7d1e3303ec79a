// Package submit runs a roster, from the file to the report, exactly once:
// it is the one pipeline every front door calls (the command line, the
// scheduler's jobs, EMG messages, a web page).
//
// # The pipeline
//
// A front door builds a Pipeline over the store, with its own hooks, and
// goes through three steps:
//
//  1. Prepare names the run from the roster's identity (its hash and
//     order fields, importer.Identify), finds the run recorded already for
//     the same input (Prepared.Existing) or builds a new one
//     (Prepared.New): every order's request and every row's outcome so far.
//     It imports the roster once (read, check, plan): for a new run with
//     the pre-flight against the account, when there is a connection.
//     Nothing is recorded or sent.
//  2. The front door shows the plan and asks its own question: a prompt, a
//     button, a job's policy. A dry run stops here.
//  3. Execute records a new run (Hooks.Recorded), places what is left of it
//     (Hooks.Progress), settles the run's state (interrupted when it stops
//     with work left), writes the report and emails it. A run with nothing
//     left to send is only shown again (Show). The Outcome says what
//     happened; the front door prints or renders it.
//
// Resume carries on with a recorded run; Finish and Report write (and
// email) a run's report from the store. PreviewReplace, PrepareReplace and
// CancelReplaced order an edited roster's changed visitor lists again and
// then cancel the orders they replace.
//
// Typical use, as the command line does it:
//
//	p := &submit.Pipeline{Store: st, Mailer: m, Hooks: submit.Hooks{Progress: show}}
//	prep, err := p.Prepare(ctx, submit.Input{Import: opts, At: where, Connect: connect})
//	// … show prep.New's orders (or prep.Existing), ask …
//	out, err := p.Execute(ctx, prep)
//	// out.Summary, out.Files, out.Mail, out.Stopped
//
// Around the pipeline: RunsAt, RunView and Status are the runs list and a
// run's status document; CancelPlan and CancelOrders cancel chosen orders;
// AmendRequest checks a change asked of placed orders; Validate checks a
// roster without ordering; Prune and Retention remove the personal data of
// runs that ended long ago. WritePlan, PlaceQuestion and the WriteText
// methods are their text for people.
//
// # Orders and errors
//
// NewRun turns an import into a run (Request builds each order's work visit
// request); API adapts the Equinix client to the queue, and Classify,
// RetryAfter and ToStored are the queue's error policy for it: only an
// Equinix error code on the order itself rejects it, every other failure is
// retried and, when retries run out, leaves the run to be resumed.
package submit
