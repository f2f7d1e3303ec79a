package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/rostergen"
)

type generateOptions struct {
	output      string
	rows        int
	seed        int64
	errorRate   float64
	ibxs        []string
	noDates     bool
	orderPerRow bool
}

func newGenerateCmd(e *env) *cobra.Command {
	var o generateOptions
	cmd := &cobra.Command{
		Use:   "generate -o FILE --rows N",
		Short: "Write a synthetic roster of any size, for trying wvbatch out and for benchmarks",
		Long: `generate writes a roster of made-up visitors for the sandbox's account. The format
follows the file name (.xlsx or .csv). The same flags always write the same roster.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGenerate(cmd.Context(), o, e)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "the roster file to write (.xlsx or .csv)")
	cmd.Flags().IntVar(&o.rows, "rows", 1000, "number of visitor rows")
	cmd.Flags().Int64Var(&o.seed, "seed", 1, "seed: the same seed writes the same roster")
	cmd.Flags().Float64Var(&o.errorRate, "error-rate", 0, "fraction of rows given a deliberate mistake (0 to 1)")
	cmd.Flags().StringSliceVar(&o.ibxs, "ibx", nil, "IBXs to use (default: all the sandbox has)")
	cmd.Flags().BoolVar(&o.noDates, "no-dates", false, "leave out the visit dates, as in a recurring job's roster")
	cmd.Flags().BoolVar(&o.orderPerRow, "order-per-row", false, "give every row a visit window of its own, so that each row is an order")
	return cmd
}

func runGenerate(_ context.Context, o generateOptions, e *env) error {
	if o.output == "" {
		return usageErr(fmt.Errorf("no output file"), "name it with -o, e.g. -o big.xlsx")
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(o.output)), ".")
	if format != "xlsx" && format != "csv" {
		return usageErr(fmt.Errorf("%s: the file name must end in .xlsx or .csv", o.output), "")
	}
	f, err := os.Create(o.output)
	if err != nil {
		return usageErr(err, "check that the folder exists and that you may write there")
	}
	err = rostergen.Write(f, rostergen.Options{
		Rows: o.rows, Seed: o.seed, Format: format, ErrorRate: o.errorRate, IBXs: o.ibxs, NoDates: o.noDates,
		OrderPerRow: o.orderPerRow,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.output)
		return usageErr(err, "")
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d rows\n", o.output, o.rows)
	return nil
}
