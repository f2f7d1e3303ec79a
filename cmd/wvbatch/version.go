package main

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release, stamped at build time with
// -ldflags "-X main.version=v1.2.3" (make build does); otherwise the
// module's version from the build information, else "dev".
var version string

// buildInfo is what `wvbatch version` says: the version, the commit it was
// built from (with "-dirty" when the tree had changes) and the Go version.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		dirty := ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if b.Commit != "" {
			b.Commit += dirty
		}
	}
	b.Version = cmp.Or(b.Version, "dev")
	return b
}

func newVersionCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print wvbatch's version, the commit it was built from and its Go version",
		Args:  exactArgs(0, "version takes no arguments"),
		RunE: func(*cobra.Command, []string) error {
			b := readBuildInfo()
			if asJSON {
				return writeJSON(e.stdout, b)
			}
			fmt.Fprintf(e.stdout, "wvbatch %s\n", b.Version)
			if b.Commit != "" {
				fmt.Fprintf(e.stdout, "commit  %s\n", b.Commit)
			}
			fmt.Fprintf(e.stdout, "go      %s\n", b.Go)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print it as JSON")
	return cmd
}
