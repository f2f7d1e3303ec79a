package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"runtime"
	"testing"
)

// TestVersion: the version stamped with -ldflags -X main.version wins;
// the Go version is said too.
func TestVersion(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v1.2.3"
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"version"}, nil, &out, &errOut, os.Getenv); code != exitOK {
		t.Fatalf("version: exit %d\n%s", code, errOut.String())
	}
	for _, want := range []string{`(?m)^wvbatch v1\.2\.3$`, `(?m)^go +` + regexp.QuoteMeta(runtime.Version()) + `$`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("version printed %q; want %s", out.String(), want)
		}
	}
	version = ""
	out.Reset()
	run(context.Background(), []string{"version", "--json"}, nil, &out, &errOut, os.Getenv)
	if !regexp.MustCompile(`"version": "[^"]+"`).MatchString(out.String()) {
		t.Errorf("version --json printed %q", out.String())
	}
}
