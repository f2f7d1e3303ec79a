package main

import (
	"cmp"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/submit"
)

type validateOptions struct {
	file      string
	json      bool
	reportDir string
	online    bool
	roster    rosterFlags
	api       apiFlags
	mail      mailFlags
}

func newValidateCmd(e *env) *cobra.Command {
	var o validateOptions
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check every row of a roster and show the orders it would place",
		Long: `validate reads a roster (.xlsx or .csv), checks every row and prints the orders
it would place, without contacting Equinix (unless --online). The report folder
gets the roster annotated row by row (<roster>-report.xlsx), every problem
(<roster>-errors.csv) and the summary (summary.json); with --notify or a
Report Email on the Order sheet, the report is emailed too.

Exit status: 0 when every row is valid, 3 when some rows need fixing,
2 when the file cannot be read.`,
		Args: exactArgs(1, "name the roster file: wvbatch validate roster.xlsx"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			return runValidate(cmd.Context(), o, e)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the summary as JSON")
	cmd.Flags().StringVar(&o.reportDir, "report-dir", "", "folder for the report (default: under the state folder)")
	cmd.Flags().BoolVar(&o.online, "online", false, "also check cages, cabinets, accounts and users against the Equinix account (or --sandbox)")
	o.roster.bind(cmd.Flags())
	o.api.bind(cmd.Flags())
	o.mail.bind(cmd.Flags())
	return cmd
}

func exactArgs(n int, hint string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr(fmt.Errorf("want %d argument(s), got %d", n, len(args)), hint)
		}
		return nil
	}
}

func runValidate(ctx context.Context, o validateOptions, e *env) error {
	check, err := o.roster.checkConfig(e)
	if err != nil {
		return err
	}
	opt := importer.Options{
		Path:  o.file,
		Read:  o.roster.readOptions(),
		Check: check,
		Order: o.roster.orderFields(),
	}
	// The run id and references are those submit gives the roster at the
	// endpoint the flags, environment and config file name; settings that
	// cannot be read are submit's to refuse.
	if at, err := o.api.whereOffline(e); err == nil {
		opt.Endpoint = submit.RunEndpoint(at)
	}
	if o.online || o.api.sandbox {
		conn, err := o.api.connect(e, o.roster.nowPtr())
		if err != nil {
			return err
		}
		defer conn.close()
		if opt.Preflight, err = conn.preflight(ctx, opt); err != nil {
			return apiErr(err)
		}
	}
	// The summary needs each order's visitor count, not its visitors: a
	// roster of a million rows fits in a few hundred MB.
	v, err := submit.Validate(ctx, opt, func(runID string) string {
		return cmp.Or(o.reportDir, submit.ReportDirIn(stateDir(e.getenv), runID))
	})
	if err != nil {
		return apiErr(err)
	}
	v.Files.WriteProblems(e.stderr, "")
	if o.json {
		if err := v.Summary.WriteJSON(e.stdout); err != nil {
			return err
		}
	} else {
		report.WriteValidationText(e.stdout, v.Import, v.Summary)
		fmt.Fprintln(e.stdout)
		v.Files.WriteText(e.stdout)
	}
	o.mail.configPath = configPathFunc(e, o.api.configFile)
	v.Mail(cliMailer{e, o.mail}).WriteText(e.stderr, "")
	if v.Failed() {
		return errRowsFailed
	}
	return nil
}
