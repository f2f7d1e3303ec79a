package main

import (
	"context"
	"io"
	"os"
	"testing"
)

func TestZZProf(t *testing.T) {
	f := os.Getenv("ZZ_FILE")
	if f == "" {
		t.Skip()
	}
	for i := 0; i < 3; i++ {
		dir := t.TempDir()
		run(context.Background(), []string{"validate", f, "--now", "2026-12-01T00:00:00Z", "--report-dir", dir}, nil, io.Discard, io.Discard, os.Getenv)
	}
}
