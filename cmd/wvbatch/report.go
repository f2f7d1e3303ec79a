package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/report"
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

// cliMailer sends report emails as the mail flags, the environment and
// the config file say.
type cliMailer struct {
	e *env
	f mailFlags
}

func (m cliMailer) Send(ctx context.Context, to []string, d mail.ReportData, files report.Files) (outbox string, err error) {
	defer func() { m.e.metrics.Mail(err == nil) }()
	cfg, err := m.f.config(m.e)
	if err != nil {
		return "", err
	}
	msg, err := report.Email(to, d, files)
	if err != nil {
		return "", err
	}
	return cfg.Outbox, mail.Send(ctx, cfg, msg)
}

// printOutcome prints a run's report (as JSON with asJSON), the parts of
// it that could not be written, and what became of its email.
func printOutcome(e *env, o *submit.Outcome, asJSON bool) error {
	if err := printRunReport(e.stdout, o.Summary, o.Files, asJSON); err != nil {
		return err
	}
	o.Files.WriteProblems(e.stderr, o.Run.ID)
	o.Mail.WriteText(e.stderr, o.Run.ID)
	return nil
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
	o.mail.configPath = configPathFunc(e, o.config)
	p := &submit.Pipeline{Store: st, ReportDir: func(string) string { return o.reportDir }, Mailer: cliMailer{e, o.mail}, Notify: o.mail.notify}
	out, err := p.Report(run.ID, nil)
	if err != nil {
		return err
	}
	if err := printRunReport(e.stdout, out.Summary, out.Files, o.json); err != nil {
		return err
	}
	out.Files.WriteProblems(e.stderr, run.ID)
	if len(out.Files.Problems) > 0 && !o.send {
		return &cliError{code: exitFailure, err: errors.New("the report was not written in full"), hint: "see the warnings above; run the command again when they are fixed"}
	}
	if !o.send {
		return nil
	}
	sent, err := p.Resend(out, e.stderr)
	if errors.Is(err, submit.ErrNoRecipients) {
		return usageErr(fmt.Errorf("run %s has no report recipients", run.ID), "name them with --notify a@example.com,b@example.com")
	} else if err != nil {
		return err
	}
	if !sent {
		return &cliError{code: exitFailure, err: errors.New("the report was not sent"), hint: "see the message above; the attempt is recorded"}
	}
	return nil
}

// printRunReport prints a run's summary as JSON, or for a person with its
// report's files.
func printRunReport(w io.Writer, sum *report.RunSummary, files report.Files, asJSON bool) error {
	if asJSON {
		return sum.WriteJSON(w)
	}
	sum.WriteText(w)
	files.WriteText(w)
	return nil
}

// configPathFunc finds the config file as the API flags do.
func configPathFunc(e *env, explicit string) func() (string, bool) {
	return func() (string, bool) {
		f := apiFlags{configFile: explicit}
		return f.configPath(e)
	}
}

// passwordOnCommandLine refuses an --smtp-url that holds a password: any
// user of the machine can read a command line (ps, /proc).
func passwordOnCommandLine(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	if _, ok := u.User.Password(); !ok {
		return nil
	}
	return usageErr(errors.New("--smtp-url holds a password, which every user of this machine can read in the process list"),
		"give the URL in WVBATCH_SMTP_URL (or a file named by WVBATCH_SMTP_URL_FILE) or the config file's smtp_url, "+
			"or keep the password out of the URL with WVBATCH_SMTP_PASSWORD_FILE")
}

// config resolves the SMTP settings (see mail.Resolve). Its errors never
// hold the password.
func (f *mailFlags) config(e *env) (mail.Config, error) {
	s := mail.Settings{URL: f.smtpURL, From: f.smtpFrom, CAFile: f.smtpCAFile, Getenv: e.getenv,
		Warn: func(w string) { e.log.Warn().Msg(w) }}
	if f.configPath != nil {
		if path, explicit := f.configPath(); path != "" {
			s.File = func() (string, string, error) {
				fc, err := loadFileConfig(path, explicit)
				return fc.SMTPURL, fc.SMTPFrom, err
			}
		}
	}
	return mail.Resolve(s)
}
