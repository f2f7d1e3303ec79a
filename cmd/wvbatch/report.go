package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/secret"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// mailFlags say how report emails are sent. Flags win over
// WVBATCH_SMTP_URL / WVBATCH_SMTP_FROM, which win over the config file's
// smtp_url / smtp_from.
type mailFlags struct {
	smtpURL    string
	smtpFrom   string
	smtpCAFile string
	// notify overrides the recipients a run recorded (commands without
	// roster flags bind it with bindNotify).
	notify []string
	// configPath is the config file to read smtp_url and smtp_from from.
	configPath func() (string, bool)
}

func (f *mailFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.smtpURL, "smtp-url", "", "SMTP server for report emails: smtp://user:pass@host:587 (STARTTLS), smtps://…:465, smtp+insecure://host:25, or file:///folder to write .eml files (default $WVBATCH_SMTP_URL, else the config file's smtp_url)")
	fs.StringVar(&f.smtpFrom, "smtp-from", "", "sender of report emails (default $WVBATCH_SMTP_FROM, else the config file's smtp_from)")
	fs.StringVar(&f.smtpCAFile, "smtp-ca-file", "", "PEM file of the CA that signed the SMTP server's certificate, when it is not a public one (default $WVBATCH_SMTP_CA_FILE)")
}

func (f *mailFlags) bindNotify(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.notify, "notify", nil, "email addresses that get the report (default: those the run was given)")
}

// errNoSMTP means report emails have nowhere to go.
var errNoSMTP = errors.New("no SMTP server is configured")

// config resolves the SMTP settings. Its errors never hold the password.
func (f *mailFlags) config(e *env) (mail.Config, error) {
	raw, from := f.smtpURL, f.smtpFrom
	if raw == "" {
		v, err := secret.Lookup(e.getenv, "WVBATCH_SMTP_URL")
		if err != nil {
			return mail.Config{}, err
		}
		warnSecret(e, v)
		raw = v.Reveal()
	}
	password, err := secret.Lookup(e.getenv, "WVBATCH_SMTP_PASSWORD")
	if err != nil {
		return mail.Config{}, err
	}
	warnSecret(e, password)
	if from == "" {
		from = e.getenv("WVBATCH_SMTP_FROM")
	}
	if (raw == "" || from == "") && f.configPath != nil {
		if path, explicit := f.configPath(); path != "" {
			fc, err := loadFileConfig(path, explicit)
			if err != nil {
				return mail.Config{}, err
			}
			raw, from = cmp.Or(raw, fc.SMTPURL), cmp.Or(from, fc.SMTPFrom)
		}
	}
	if raw == "" {
		return mail.Config{}, errNoSMTP
	}
	cfg, err := mail.ParseURLPassword(raw, password.Reveal())
	if err != nil {
		return mail.Config{}, err
	}
	if from != "" {
		cfg.From = from
	}
	if cfg.From == "" {
		return mail.Config{}, errors.New("no sender address for report emails: set --smtp-from or WVBATCH_SMTP_FROM")
	}
	if ca := cmp.Or(f.smtpCAFile, e.getenv("WVBATCH_SMTP_CA_FILE")); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return mail.Config{}, fmt.Errorf("SMTP CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return mail.Config{}, fmt.Errorf("SMTP CA file %s holds no PEM certificate", ca)
		}
		cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// runReportFiles writes a run's report folder from the store and records
// it. imp, when not nil, is the run's roster as imported in this process.
// A file that cannot be written is in files.Problems, never an error: only
// reading the store can fail it.
func runReportFiles(st *queue.Store, runID, dir string, imp *importer.Result) (*report.RunSummary, report.Files, error) {
	run, sum, rows, err := loadRun(st, runID, imp)
	if err != nil {
		return nil, report.Files{}, err
	}
	files := writeRunReport(st, run, sum, rows, dir)
	return sum, files, nil
}

// loadRun reads a run, its summary and its rows from the store.
func loadRun(st *queue.Store, runID string, imp *importer.Result) (queue.Run, *report.RunSummary, []queue.RowOutcome, error) {
	run, err := st.Run(runID)
	if err != nil {
		return queue.Run{}, nil, nil, err
	}
	orders, err := st.Orders(runID)
	if err != nil {
		return queue.Run{}, nil, nil, err
	}
	var rows []queue.RowOutcome
	if err := st.Rows(runID, func(r queue.RowOutcome) error { rows = append(rows, r); return nil }); err != nil {
		return queue.Run{}, nil, nil, err
	}
	return run, report.NewRunSummary(run, orders, rows, imp), rows, nil
}

// writeRunReport writes a run's report folder and records what became of
// it in the store.
func writeRunReport(st *queue.Store, run queue.Run, sum *report.RunSummary, rows []queue.RowOutcome, dir string) report.Files {
	var set submit.Settings
	source, skip := "", ""
	if err := submit.RunSettings(run, &set); err != nil {
		skip = err.Error() // the report is made without the roster
	} else {
		source, skip = rosterSource(st, run, set)
	}
	files := report.WriteFiles(report.FilesInput{
		Dir: dir, Name: cmp.Or(set.Roster, run.File), SkipReason: skip, Errors: sum.Errors, Summary: sum,
		Workbook: report.RunWorkbook(sum, rows, source, set.Sheet, set.HeaderRow),
	})
	rec := queue.ReportRecord{Dir: dir, Files: files.Paths(), Problems: files.Problems, Skipped: files.WorkbookSkipped, Of: report.Fingerprint(sum)}
	if err := st.RecordReport(run.ID, rec); err != nil {
		files.Problems = append(files.Problems, fmt.Sprintf("record the report in the store: %v", err))
	}
	return files
}

// recordedReport returns the run's recorded report when it is complete, up
// to date with sum and still on disk in dir, so it need not be written
// again.
func recordedReport(run queue.Run, sum *report.RunSummary, dir string) (report.Files, bool) {
	rec := run.Report
	if rec == nil || rec.Of == "" || len(rec.Problems) > 0 || rec.Dir != dir || rec.Of != report.Fingerprint(sum) {
		return report.Files{}, false
	}
	files := report.Files{Dir: rec.Dir, WorkbookSkipped: rec.Skipped}
	for _, p := range rec.Files {
		if _, err := os.Stat(p); err != nil {
			return report.Files{}, false
		}
		switch {
		case strings.HasSuffix(p, "-report.xlsx"):
			files.Workbook = p
		case strings.HasSuffix(p, "-errors.csv"):
			files.ErrorsCSV = p
		default:
			files.Summary = p
		}
	}
	return files, true
}

// warnReport prints the report files that could not be written: a warning,
// never the command's failure.
func warnReport(w io.Writer, files report.Files, runID string) {
	if len(files.Problems) == 0 {
		return
	}
	for _, p := range files.Problems {
		fmt.Fprintf(w, "wvbatch: warning: part of the report was not written: %s\n", p)
	}
	if runID != "" {
		fmt.Fprintf(w, "hint: free space or fix the report folder's permissions, then write it again with: wvbatch report %s\n", runID)
		return
	}
	fmt.Fprintf(w, "hint: free space or fix the report folder's permissions (or choose another with --report-dir), then run the command again\n")
}

// rosterSource is the roster file to annotate for a run, or "" and why not.
// The first report of a run keeps a copy of its roster beside the store
// (rosters/<run><ext>), so that the report can be made again from the store
// after the roster was moved or edited.
func rosterSource(st *queue.Store, run queue.Run, set submit.Settings) (string, string) {
	p := set.Roster
	if p == "" {
		return "", "the run has no roster file to annotate"
	}
	kept := filepath.Join(filepath.Dir(st.Path()), "rosters", run.ID+strings.ToLower(filepath.Ext(p)))
	if run.Hash == "" {
		return p, ""
	}
	if h, err := importer.HashFile(kept); err == nil && h == run.Hash {
		return kept, ""
	}
	h, err := importer.HashFile(p)
	switch {
	case err != nil:
		return "", fmt.Sprintf("the roster %s cannot be read", p)
	case h != run.Hash:
		return "", fmt.Sprintf("the roster %s changed since the run", p)
	}
	if err := copyFile(p, kept); err != nil {
		// Only a later report needs the copy: this one reads the roster.
		os.Remove(kept)
	}
	return p, ""
}

// copyFile copies src to dst (mode 0600), creating dst's folder.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// deliver emails a run's report when the run has recipients, and records
// the outcome. A mail that cannot be sent is recorded and reported on
// stderr; it never fails the command.
func deliver(e *env, st *queue.Store, f mailFlags, sum *report.RunSummary, files report.Files, resumeHint string) {
	run, err := st.Run(sum.RunID)
	if err != nil {
		fmt.Fprintf(e.stderr, "wvbatch: report email: %v\n", err)
		return
	}
	to := f.notify
	if len(to) == 0 {
		var set submit.Settings
		if err := submit.RunSettings(run, &set); err != nil {
			fmt.Fprintf(e.stderr, "wvbatch: report email: %v\n", err)
			return
		}
		to = set.Order.ReportEmails
	}
	if len(to) == 0 {
		return
	}
	d := report.RunMailData(sum, resumeHint)
	subject := mail.Subject(d)
	outbox, err := sendReport(e, f, to, d, files)
	rec := queue.MailRecord{To: to, Subject: subject, Sent: err == nil}
	if err != nil {
		rec.Error = err.Error()
	}
	if rerr := st.RecordMail(sum.RunID, rec); rerr != nil {
		fmt.Fprintf(e.stderr, "wvbatch: record the report email: %v\n", rerr)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "wvbatch: the report was not emailed to %s: %v\n", strings.Join(to, ", "), err)
		fmt.Fprintf(e.stderr, "hint: %s; then send it with: wvbatch report %s --send\n", mailHint(err), sum.RunID)
		return
	}
	if outbox != "" {
		fmt.Fprintf(e.stderr, "report email to %s written to the outbox %s: %q\n", strings.Join(to, ", "), outbox, subject)
		return
	}
	fmt.Fprintf(e.stderr, "report emailed to %s: %q\n", strings.Join(to, ", "), subject)
}

// sendReport sends a report email; outbox is the folder it was written to
// instead, for a file:// URL.
func sendReport(e *env, f mailFlags, to []string, d mail.ReportData, files report.Files) (outbox string, err error) {
	defer func() { e.metrics.Mail(err == nil) }()
	cfg, err := f.config(e)
	if err != nil {
		return "", err
	}
	msg, err := report.Email(to, d, files)
	if err != nil {
		return "", err
	}
	// The run is over: the email gets its own time, even after Ctrl-C.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return cfg.Outbox, mail.Send(ctx, cfg, msg)
}

func mailHint(err error) string {
	switch {
	case errors.Is(err, errNoSMTP):
		return "set WVBATCH_SMTP_URL (e.g. smtp://user:password@mail.example.com:587) and WVBATCH_SMTP_FROM, or --smtp-url and --smtp-from"
	case errors.Is(err, mail.ErrNoStartTLS):
		return "use smtps:// for a server that speaks TLS directly, or smtp+insecure:// for a local relay"
	}
	return "check the SMTP settings and that the server is reachable"
}

type reportOptions struct {
	runID     string
	store     storeFlag
	reportDir string
	send      bool
	json      bool
	mail      mailFlags
	config    string
}

func newReportCmd(e *env) *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Write a run's report again from the store, and send it with --send",
		Long: `report writes a run's report folder again from what the store recorded: the
annotated roster (<roster>-report.xlsx), <roster>-errors.csv and summary.json.
With --send it emails the report to the run's recipients (or --notify), for
example after a mail server was down; each attempt is recorded.`,
		Args: exactArgs(1, "name the run: 'wvbatch runs' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.runID = args[0]
			return runReport(o, e)
		},
	}
	o.store.bind(cmd.Flags())
	o.mail.bind(cmd.Flags())
	o.mail.bindNotify(cmd.Flags())
	cmd.Flags().StringVar(&o.reportDir, "report-dir", "", "folder for the report (default: beside the store)")
	cmd.Flags().BoolVar(&o.send, "send", false, "email the report to the run's recipients (or --notify)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the run's summary as JSON")
	cmd.Flags().StringVar(&o.config, "config", "", "config file (default $XDG_CONFIG_HOME/wvbatch/config.yaml when it exists)")
	return cmd
}

func runReport(o reportOptions, e *env) error {
	st, err := o.store.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	run, err := findRun(st, o.runID)
	if err != nil {
		return err
	}
	dir := reportDir(o.reportDir, st, run.ID)
	sum, files, err := runReportFiles(st, run.ID, dir, nil)
	if err != nil {
		return err
	}
	if err := printRunReport(e.stdout, sum, files, o.json); err != nil {
		return err
	}
	warnReport(e.stderr, files, run.ID)
	if len(files.Problems) > 0 && !o.send {
		return &cliError{code: exitFailure, err: errors.New("the report was not written in full"), hint: "see the warnings above; run the command again when they are fixed"}
	}
	if !o.send {
		return nil
	}
	o.mail.configPath = configPathFunc(e, o.config)
	to := o.mail.notify
	if len(to) == 0 {
		var set submit.Settings
		if err := submit.RunSettings(run, &set); err != nil {
			return err
		}
		to = set.Order.ReportEmails
	}
	if len(to) == 0 {
		return usageErr(fmt.Errorf("run %s has no report recipients", run.ID), "name them with --notify a@example.com,b@example.com")
	}
	deliver(e, st, o.mail, sum, files, "")
	after, err := st.Run(run.ID)
	if err != nil {
		return err
	}
	if after.Mail == nil || !after.Mail.Sent {
		return &cliError{code: exitFailure, err: errors.New("the report was not sent"), hint: "see the message above; the attempt is recorded"}
	}
	return nil
}

// reportDir is the report folder of a run: dir when given, else beside the
// store.
func reportDir(dir string, st *queue.Store, runID string) string {
	if dir != "" {
		return dir
	}
	return filepath.Join(filepath.Dir(st.Path()), "reports", runID)
}

// printRunReport prints a run's summary as JSON, or for a person with its
// report's files.
func printRunReport(w io.Writer, sum *report.RunSummary, files report.Files, asJSON bool) error {
	if asJSON {
		return writeJSON(w, sum)
	}
	printRunSummary(w, sum)
	printFiles(w, files)
	return nil
}

func printFiles(w io.Writer, files report.Files) {
	fmt.Fprintf(w, "report: %s\n", files.Dir)
	for _, p := range files.Paths() {
		fmt.Fprintf(w, "  %s\n", filepath.Base(p))
	}
	if files.Workbook == "" && files.WorkbookSkipped != "" {
		fmt.Fprintf(w, "  (no annotated workbook: %s)\n", files.WorkbookSkipped)
	}
}

// configPathFunc finds the config file as the API flags do.
func configPathFunc(e *env, explicit string) func() (string, bool) {
	return func() (string, bool) {
		f := apiFlags{configFile: explicit}
		return f.configPath(e)
	}
}
