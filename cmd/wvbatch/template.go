package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/roster"
)

type templateOptions struct {
	output string
	force  bool
}

func newTemplateCmd(e *env) *cobra.Command {
	var o templateOptions
	cmd := &cobra.Command{
		Use:   "template [-o roster.xlsx]",
		Short: "Write an empty roster workbook to fill in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTemplate(cmd.Context(), o, e)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "roster.xlsx", "where to write the workbook")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite the file if it exists")
	return cmd
}

func runTemplate(_ context.Context, o templateOptions, e *env) error {
	var buf bytes.Buffer
	if err := roster.WriteTemplate(&buf); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(o.output, flags, 0o644)
	if os.IsExist(err) {
		return usageErr(fmt.Errorf("%s already exists", o.output), "choose another name with -o, or add --force to overwrite it")
	}
	if err != nil {
		return usageErr(err, "check that the folder exists and that you may write there")
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: fill in the Visitors and Order sheets, then run: wvbatch validate %s\n", o.output, o.output)
	return nil
}
