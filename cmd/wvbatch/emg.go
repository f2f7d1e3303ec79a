package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/emg"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// submitArgs accepts one roster file, or EMG messages: .json files and
// folders of them.
func submitArgs(_ *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return usageErr(errors.New("want 1 argument(s), got 0"),
			"name the roster file: wvbatch submit roster.xlsx --sandbox (or EMG messages: wvbatch submit messages/*.json)")
	case isMessages(args), len(args) == 1:
		return nil
	}
	return usageErr(fmt.Errorf("want 1 roster file, got %d arguments", len(args)),
		"submit one roster at a time; several arguments must all be EMG messages (.json files or folders)")
}

// isMessages reports whether args name EMG messages: every one a .json
// file or a folder.
func isMessages(args []string) bool { return emg.IsBatch(args) }

// messageFiles expands folders to the .json files in them, in name order;
// a name that is neither is a usage error.
func messageFiles(args []string) ([]string, error) {
	files, err := emg.Files(args)
	var ne *emg.NameError
	if errors.As(err, &ne) {
		return nil, usageErr(err, ne.Hint)
	}
	return files, err
}

func runSubmitMessages(ctx context.Context, o submitOptions, e *env, args []string) error {
	files, err := messageFiles(args)
	if err != nil {
		return err
	}
	now := e.now()
	if t := o.roster.nowPtr(); t != nil {
		now = *t
	}
	msgs, err := loadMessages(e, files, now)
	if err != nil {
		return err
	}
	msgs.WritePlan(e.stdout)
	if o.dryRun {
		fmt.Fprintln(e.stdout, "dry run: nothing was sent or recorded")
		return nil
	}
	if err := askYes(e, o.run.yes, "submit", fmt.Sprintf("Send %s (%s to place)?", report.Plural(len(msgs), "message", "messages"),
		report.Plural(msgs.Count()[emg.KindCreate], "order", "orders"))); err != nil {
		return err
	}

	st, err := o.run.store.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	conn, err := o.run.api.connect(e, o.roster.nowPtr())
	if err != nil {
		return err
	}
	defer conn.close()
	where, err := conn.where(ctx)
	if err != nil {
		return err
	}

	amend := o.run.pipeline(e, st).RunConfig("", conn.client)
	amend.Concurrency = 1
	a := &emg.Applier{
		Store: st, API: submit.API{Client: conn.client}, Endpoint: where.Endpoint, Account: where.Account, File: abs(args[0]),
		Now: o.roster.now, Clock: now,
		Amend: queue.AmendConfig{RunConfig: amend, Closed: submit.IsClosed},
		Submit: func(ctx context.Context, run runstore.Run, created bool) error {
			err := submitCreates(ctx, e, st, o, conn, run, created)
			if errors.Is(err, errRowsFailed) {
				return nil // the messages' results say which
			}
			return err
		},
		Notice: func(s string) { fmt.Fprintln(e.stdout, s) },
	}
	results, runID, err := a.Apply(ctx, msgs)
	if emg.CreatesUnfinished(err) {
		fmt.Fprintln(e.stderr, "the orders of the Create messages are not all placed: submit the messages again to carry on; Update and Cancel messages were not sent")
	}
	if err != nil {
		return err
	}

	if done, err := emg.Deliver(e.stdout, submit.RunReportDir(o.run.reportDir, st, runID), results); err != nil || done {
		return err
	}
	return errRowsFailed
}

// loadMessages reads and checks every message. Nothing is sent unless all
// of them are good: a message that cannot be read gives a usage error
// (exit 2), one that breaks a field rule the rows-failed exit (3).
func loadMessages(e *env, files []string, now time.Time) (emg.Batch, error) {
	msgs, err := emg.Load(files, now)
	if re, ok := errors.AsType[*emg.ReadError](err); ok {
		return nil, usageErr(re, "check the file's name and that you may read it")
	}
	var errs emg.Errors
	if !errors.As(err, &errs) {
		return msgs, err
	}
	for _, fe := range errs {
		fmt.Fprintf(e.stderr, "%s\n", fe)
	}
	summary := errs.Summary(len(files))
	if errs.Envelope() {
		return nil, usageErr(summary, "each file must hold one EMG envelope {\"Task\": {…, \"Resource\": \"WorkVisit\", \"Body\": {…}}, \"Signature\": …}")
	}
	fmt.Fprintf(e.stderr, "wvbatch: %v\nhint: fix the fields named above and submit the messages again\n", summary)
	return nil, errRowsFailed
}

// submitCreates places the run of the Create messages, one order per
// message, through the run pipeline, as a roster's run is placed, or
// resumes it.
func submitCreates(ctx context.Context, e *env, st *runstore.Store, o submitOptions, conn *apiConn, run runstore.Run, created bool) error {
	p := o.run.pipeline(e, st)
	if created {
		fmt.Fprintf(e.stdout, "run %s recorded in %s: %s, one per Create message\n", run.ID, st.Path(), report.Plural(run.OrderCount(), "order", "orders"))
	} else {
		fmt.Fprintf(e.stdout, "the same Create messages as run %s (%s): resuming it; nothing is ordered twice\n",
			run.ID, run.CreatedAt.Local().Format("2006-01-02 15:04"))
	}
	var out *submit.Outcome
	var err error
	if !created && submit.Settled(run) {
		out, err = p.Finish(run.ID, nil)
	} else {
		out, err = p.Place(ctx, run, conn.client, nil)
	}
	return ranRun(ctx, e, out, err, o.run.json)
}
