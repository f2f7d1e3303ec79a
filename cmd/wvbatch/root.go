package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/metrics"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// Exit codes, as the README documents them.
const (
	exitOK        = 0
	exitFailure   = 1 // anything else: a bug, an API outage, a full disk
	exitUsage     = 2 // bad flags or arguments, or an input file that cannot be read
	exitRows      = 3 // some rows are invalid or were not ordered
	exitStoreBusy = 4 // the store is in use by another wvbatch
)

// env carries what the commands take from the process: streams, environment
// and clock. Tests fill it directly.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	until          func(time.Time) <-chan time.Time // the daemon's timer on now; nil: a real one
	log            zerolog.Logger
	// metrics, when set, counts API requests, runs and emails (the daemon
	// with --metrics-listen, tick with --metrics-file); nil counts nothing.
	metrics *metrics.Metrics
	// tuneClient and tuneRun, when set (tests do), adjust the API client's
	// and the runs' settings, e.g. to shorten the retry budgets.
	tuneClient func(*equinix.Config)
	tuneRun    func(*queue.RunConfig)
	// tty, when set (tests do), stands for the terminal the questions are
	// asked on (see askYes); nil opens /dev/tty.
	tty func() (io.ReadWriteCloser, error)
}

type rootOptions struct {
	logLevel  string
	logFormat string
}

// run runs the command line args and returns the process's exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return runEnv(ctx, args, &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now})
}

// runEnv runs the command line args in e and returns the exit code.
func runEnv(ctx context.Context, args []string, e *env) int {
	stdin, stdout, stderr := e.stdin, e.stdout, e.stderr
	cmd := newRootCmd(e)
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(ctx)
	return reportError(stderr, err)
}

func newRootCmd(e *env) *cobra.Command {
	var ro rootOptions
	root := &cobra.Command{
		Use:   "wvbatch",
		Short: "Order Equinix work visits in bulk from visitor rosters",
		Long: `wvbatch reads the visitor rosters you keep in Excel (.xlsx) or CSV, checks every row,
splits the visitors into Equinix work visit orders (at most 50 visitors and 14 days each)
and places them, tracking every order so that nothing is ever ordered twice.

` + runIDHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			l, err := newLogger(e.stderr, ro.logLevel, ro.logFormat)
			if err != nil {
				return usageErr(err, "")
			}
			e.log = l
			if f := cmd.Flags().Lookup("smtp-url"); f != nil {
				// Before anything is done: the password must not be used.
				return passwordOnCommandLine(f.Value.String())
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&ro.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&ro.logFormat, "log-format", "auto", "log format: json, text, or auto (text on a terminal)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err, "run 'wvbatch help' for the flags") })
	root.AddCommand(
		newTemplateCmd(e),
		newValidateCmd(e),
		newGenerateCmd(e),
		newSandboxCmd(e),
		newSubmitCmd(e),
		newResumeCmd(e),
		newRunsCmd(e),
		newStatusCmd(e),
		newCancelCmd(e),
		newRescheduleCmd(e), newAmendCmd(e),
		newScheduleCmd(e),
		newReportCmd(e),
		newStoreCmd(e),
		newPruneCmd(e),
		newServeCmd(e), newUsersCmd(e),
		newVersionCmd(e),
	)
	for _, c := range root.Commands() {
		switch c.Name() {
		case "resume", "status", "cancel", "amend", "reschedule", "report":
			c.ValidArgsFunction = completeRunIDs(e)
		}
	}
	return root
}

func newLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	switch format {
	case "json":
	case "text", "auto":
		if format == "text" || isTerminal(w) {
			w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
		}
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: want json, text or auto", format)
	}
	// Workers and watchers log at once: one event per write, whole.
	return zerolog.New(zerolog.SyncWriter(w)).Level(lvl).With().Timestamp().Logger(), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// cliError is an error meant for a person: one line, a hint, an exit code.
type cliError struct {
	code int
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func usageErr(err error, hint string) error { return &cliError{code: exitUsage, err: err, hint: hint} }

// errRowsFailed reports that the command did its work but some rows are
// invalid or were not ordered; the command has already said which.
var errRowsFailed = errors.New("some rows need fixing")

// reportError prints err for a person and returns the exit code.
func reportError(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errRowsFailed) {
		return exitRows
	}
	if errors.Is(err, errDeclined) {
		return exitOK // the question said nothing was sent
	}
	var ce *cliError
	var fe *roster.FileError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintf(w, "wvbatch: %v\n", ce.err)
		if ce.hint != "" {
			fmt.Fprintf(w, "hint: %s\n", ce.hint)
		}
		return ce.code
	case errors.As(err, &fe):
		fmt.Fprintf(w, "wvbatch: %v\n", fe)
		if fe.Hint != "" {
			fmt.Fprintf(w, "hint: %s\n", fe.Hint)
		}
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(w, "wvbatch: interrupted")
		return exitFailure
	case errors.Is(err, runstore.ErrDamaged):
		fmt.Fprintf(w, "wvbatch: %v\nhint: %s\n", err, runstore.HintDamaged)
		return exitFailure
	case isCobraUsage(err):
		fmt.Fprintf(w, "wvbatch: %v\nhint: run 'wvbatch help' for the commands and flags\n", err)
		return exitUsage
	}
	fmt.Fprintf(w, "wvbatch: %v\n", err)
	return exitFailure
}

// isCobraUsage recognises cobra's own argument errors, which it returns as
// plain errors.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// stateDir is where wvbatch keeps its store and reports by default.
func stateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "wvbatch")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "wvbatch")
	}
	return filepath.Join(os.TempDir(), "wvbatch")
}

// parseNow reads --now: an RFC 3339 instant, or "" for the real clock.
func parseNow(s string, real func() time.Time) (func() time.Time, error) {
	if s == "" {
		return real, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--now %q is not an RFC 3339 time", s), "write it like 2027-01-01T09:00:00Z")
	}
	return func() time.Time { return t }, nil
}

// apiErr turns errors from Equinix that a person must act on into one line
// and a hint (see submit.ErrorHint).
func apiErr(err error) error {
	if h := submit.ErrorHint(err); h != "" {
		return &cliError{code: exitFailure, err: err, hint: h}
	}
	return err
}
