package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// bindYes adds --yes to a command that orders, cancels or changes orders.
func bindYes(cmd *cobra.Command, yes *bool) {
	cmd.Flags().BoolVarP(yes, "yes", "y", false, "do not ask: go ahead (needed when not run from a terminal)")
}

// openTTY opens the terminal the command was started from, whatever its
// stdin and stdout are (a pipe, a file).
func (e *env) openTTY() (io.ReadWriteCloser, error) {
	if e.tty != nil {
		return e.tty()
	}
	return os.OpenFile("/dev/tty", os.O_RDWR, 0)
}

// errDeclined is a question answered other than yes: nothing was done.
var errDeclined = errors.New("not confirmed")

// askYes asks question on the terminal, reading the answer from it even
// when stdin and stdout are redirected, and returns nil for y or yes.
// yes skips the question. With no terminal it refuses: a usage error,
// "<what> needs --yes when not run from a terminal". Any other answer is
// errDeclined.
func askYes(e *env, yes bool, what, question string) error {
	if yes {
		return nil
	}
	t, err := e.openTTY()
	if err != nil {
		return usageErr(fmt.Errorf("%s needs --yes when not run from a terminal", what),
			"check what it will do first (--dry-run where there is one), then add --yes")
	}
	defer t.Close()
	fmt.Fprintf(t, "%s [y/N] ", question)
	line, _ := bufio.NewReader(t).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	fmt.Fprintln(t, "nothing was sent")
	return errDeclined
}
