package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// storeFlag is the --store flag of every command that reads or writes runs.
type storeFlag struct{ path string }

func (f *storeFlag) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.path, "store", "", "the run store (default $WVBATCH_STORE, else $XDG_STATE_HOME/wvbatch/wvbatch.db)")
}

func (f *storeFlag) resolve(e *env) string {
	if f.path != "" {
		return f.path
	}
	if p := e.getenv("WVBATCH_STORE"); p != "" {
		return p
	}
	return filepath.Join(stateDir(e.getenv), "wvbatch.db")
}

// A command waits up to storeWait for another wvbatch (the server, the
// scheduler daemon, another command) to let go of the store, and says so
// once it has waited storeWaitNotice.
const (
	storeWaitNotice = time.Second
	storeWait       = 10 * time.Second
)

func (f *storeFlag) open(e *env) (*runstore.Store, error) { return f.openWithin(e, storeWait) }

// openWithin opens the store, waiting up to wait for another wvbatch to let
// go of it (saying so after storeWaitNotice). The scheduler, which retries
// on its own, opens with a short wait.
func (f *storeFlag) openWithin(e *env, wait time.Duration) (*runstore.Store, error) {
	path := f.resolve(e)
	s, err := runstore.OpenWaiting(path, runstore.Options{Now: e.now}, wait, storeWaitNotice, func() {
		fmt.Fprintf(e.stderr, "waiting for another wvbatch to let go of the store %s (up to %s)…\n", path, wait)
	})
	if err != nil {
		return nil, openError(err)
	}
	for _, n := range s.UpgradeNotes() {
		fmt.Fprintf(e.stderr, "wvbatch: store %s: %s\n", path, n)
	}
	return s, nil
}

// openError is the command line's error for a store that cannot be opened.
func openError(err error) error {
	code := exitFailure
	if errors.Is(err, runstore.ErrStoreBusy) {
		code = exitStoreBusy
	}
	return &cliError{code: code, err: err, hint: runstore.OpenHint(err)}
}

// openRun opens the store and finds the run whose id is id, or starts with
// it, and the settings it was recorded with. The caller closes the store.
func (f *storeFlag) openRun(e *env, id string) (*runstore.Store, runstore.Run, submit.Settings, error) {
	var set submit.Settings
	st, err := f.open(e)
	if err != nil {
		return nil, runstore.Run{}, set, err
	}
	run, err := findRun(st, id)
	if err == nil {
		err = submit.RunSettings(run, &set)
	}
	if err != nil {
		st.Close()
		return nil, runstore.Run{}, set, err
	}
	return st, run, set, nil
}

// runIDHelp says how commands take a run id.
const runIDHelp = `RUN, where a command takes one, is a run id as 'wvbatch runs' lists it, or its first
3 or more characters when no other run starts with them.`

// completeRunIDs completes the RUN argument of a command with the ids of
// the runs in the store its --store flag (or the default) names, each with
// its roster and endpoint.
func completeRunIDs(e *env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var f storeFlag
		f.path, _ = cmd.Flags().GetString("store")
		st, err := f.open(e)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer st.Close()
		choices, err := submit.RunChoices(st, toComplete)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, c := range choices {
			out = append(out, cobra.CompletionWithDesc(c[0], c[1]))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// findRun returns the run whose id is id, or starts with it (see
// runstore.Store.FindRun); a run id that finds no run, or more than one, is
// a usage error.
func findRun(s *runstore.Store, id string) (runstore.Run, error) {
	r, err := s.FindRun(id)
	if ie, ok := errors.AsType[*runstore.RunIDError](err); ok {
		hint := "'wvbatch runs' lists the runs"
		if ie.Ambiguous {
			hint = "give more of the run id"
		}
		return r, usageErr(ie, hint)
	}
	return r, err
}
