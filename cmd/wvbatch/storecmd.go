package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

func newStoreCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Back up, check and restore the run store",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newStoreBackupCmd(e), newStoreCheckCmd(e), newStoreRestoreCmd(e))
	return cmd
}

// openWaiting opens the store, waiting up to wait while another wvbatch
// has it open.
func openWaiting(ctx context.Context, e *env, f *storeFlag, wait time.Duration) (*runstore.Store, error) {
	return runstore.Retry(ctx, wait, func() (*runstore.Store, error) { return f.open(e) })
}

func newStoreBackupCmd(e *env) *cobra.Command {
	var store storeFlag
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the store to FILE",
		Long: `backup writes the store as one read transaction sees it to FILE (mode 0600),
whole or not at all, then checks the copy. It works while other commands run:
when another wvbatch has the store open (a submit, resume, cancel or amend,
the scheduler during a run, the web server), that wvbatch sends the copy
through the store's backup socket, at once; when none has, backup opens the
store itself. A wvbatch that has the store open but does not answer (one from
before backups worked this way) is waited for, up to --wait. Restore a backup
with 'wvbatch store restore'.

Exit status: 0 when the copy is written and checks sound, 1 otherwise, 4 when
the store stayed in use, with no answer, for --wait.`,
		Args: exactArgs(1, "name the backup file, e.g. wvbatch-$(date +%F).db"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := notTheStore(e, &store, args[0]); err != nil {
				return err
			}
			path := store.resolve(e)
			res, err := runstore.BackupTo(cmd.Context(), path, args[0], wait)
			switch {
			case errors.Is(err, runstore.ErrStoreBusy):
				return &cliError{code: exitStoreBusy, err: err,
					hint: "the wvbatch that has the store open does not send backups (one older than this one?): back up when it is done, or wait longer with --wait"}
			case errors.Is(err, runstore.ErrDamaged), errors.Is(err, runstore.ErrNewerSchema):
				return openError(err)
			case err != nil:
				return &cliError{code: exitFailure, err: err, hint: "check that the backup's folder exists, that you may write there and that the disk has room"}
			}
			rep, err := runstore.CheckFile(args[0])
			if err != nil || !rep.OK() {
				return &cliError{code: exitFailure, err: fmt.Errorf("the backup %s does not check: %v", args[0], checkProblem(err, rep)),
					hint: "run 'wvbatch store check' on the store itself"}
			}
			via := ""
			if res.PID != 0 {
				via = fmt.Sprintf(" (sent by the wvbatch that has it open, pid %d)", res.PID)
			}
			fmt.Fprintf(e.stdout, "backed up %s to %s%s: %d bytes, %d runs, %d orders, checked\n", path, args[0], via, res.Size, rep.Runs, rep.Orders)
			return nil
		},
	}
	store.bind(cmd.Flags())
	cmd.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to wait while another wvbatch has the store open")
	return cmd
}

func checkProblem(err error, rep runstore.CheckReport) string {
	if err != nil {
		return err.Error()
	}
	return rep.Problems[0]
}

func newStoreCheckCmd(e *env) *cobra.Command {
	var store storeFlag
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the store's pages and its own invariants",
		Long: `check runs bbolt's consistency check over every page of the store, then the
store's own invariants: every run has its orders and rows; every order is in a
known state and the run's counts match; the order index names every order;
every order has its request; every row has an outcome; every visitor recorded
as ordered is on a placed order. It prints one line per problem, never a
visitor's name.

Exit status: 0 sound, 1 problems found (restore the latest backup), 4 the store
is in use by another wvbatch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := store.resolve(e)
			rep, err := runstore.CheckFile(path)
			switch {
			case errors.Is(err, runstore.ErrStoreBusy):
				return &cliError{code: exitStoreBusy, err: err, hint: "check it when the other wvbatch is done, or check a backup of it"}
			case errors.Is(err, runstore.ErrDamaged):
				return &cliError{code: exitFailure, err: err, hint: runstore.HintDamaged}
			case err != nil:
				return &cliError{code: exitFailure, err: err, hint: "the file cannot be read as a store: restore the latest backup ('wvbatch store restore')"}
			}
			for _, p := range rep.Problems {
				fmt.Fprintf(e.stdout, "problem: %s\n", p)
			}
			if !rep.OK() {
				return &cliError{code: exitFailure, err: fmt.Errorf("store %s is damaged: %d problems", path, len(rep.Problems)), hint: runstore.HintDamaged}
			}
			fmt.Fprintf(e.stdout, "store %s is sound: %d runs, %d orders, %d rows, %d visitors recorded as ordered\n",
				path, rep.Runs, rep.Orders, rep.Rows, rep.Claims)
			return nil
		},
	}
	store.bind(cmd.Flags())
	return cmd
}

func newStoreRestoreCmd(e *env) *cobra.Command {
	var store storeFlag
	cmd := &cobra.Command{
		Use:   "restore BACKUP",
		Short: "Put a backup in place of the store",
		Long: `restore checks BACKUP and puts it in place of the store, keeping the store it
replaces beside it as <store>.before-restore-<time>. Orders may have been placed
after the backup was taken: every order of an unfinished run is therefore
searched for at Equinix by its reference before it is sent ('wvbatch resume'),
and so are the orders of every run made in the 90 days after the restore (a
run made again from its roster has the references it had).

Exit status: 0 restored, 1 the backup does not check or cannot be copied,
4 the store is in use by another wvbatch (stop it first).`,
		Args: exactArgs(1, "name the backup file to restore"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := notTheStore(e, &store, args[0]); err != nil {
				return err
			}
			path := store.resolve(e)
			res, err := runstore.Restore(args[0], path, e.now())
			switch {
			case errors.Is(err, runstore.ErrStoreBusy):
				return &cliError{code: exitStoreBusy, err: err, hint: "stop the daemon and every other wvbatch using the store, then restore"}
			case err != nil:
				return &cliError{code: exitFailure, err: err, hint: "check the backup with: wvbatch store check --store " + args[0]}
			}
			fmt.Fprintf(e.stdout, "restored %s to %s: %d runs; %d orders of unfinished runs will be searched for before they are sent\n",
				args[0], path, res.Runs, res.InDoubt)
			if res.Aside != "" {
				fmt.Fprintf(e.stdout, "the store it replaced is kept as %s\n", res.Aside)
			}
			fmt.Fprintln(e.stdout, "next: 'wvbatch runs' lists the runs; 'wvbatch resume RUN' finishes an unfinished one")
			return nil
		},
	}
	store.bind(cmd.Flags())
	return cmd
}

// notTheStore refuses a backup file that is the store itself.
func notTheStore(e *env, f *storeFlag, file string) error {
	if runstore.IsStoreFile(file, f.resolve(e)) {
		return usageErr(fmt.Errorf("%s is the store itself", file), "name another file for the backup, e.g. wvbatch-$(date +%F).db")
	}
	return nil
}
