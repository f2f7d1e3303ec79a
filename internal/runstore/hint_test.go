package runstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenHint: a busy store, a damaged one, one from a newer wvbatch and
// a folder that cannot be written each get their own hint.
func TestOpenHint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "wvbatch.db")
	held, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, busy := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	held.Close()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, damaged := Open(empty, Options{})
	_, nofolder := Open(filepath.Join(empty, "wvbatch.db"), Options{}) // under a file
	for _, tc := range []struct {
		err  error
		want string
	}{
		{busy, "another wvbatch"},
		{damaged, "restore it from a backup"},
		{ErrNewerSchema, "upgrade wvbatch"},
		{nofolder, "folder exists"},
	} {
		if tc.err == nil {
			t.Errorf("no error for the case wanting %q", tc.want)
			continue
		}
		if got := OpenHint(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("OpenHint(%v) = %q; want one containing %q", tc.err, got, tc.want)
		}
	}
}
