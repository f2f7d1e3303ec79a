package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedStore: a store file that is empty or not a store is refused
// with exit 1 and the way to restore it, and left as it was.
func TestDamagedStore(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{"empty": "", "unrelated": strings.Repeat("not a store\n", 1000)} {
		c := newCLI(t, nil)
		path := filepath.Join(t.TempDir(), "wvbatch.db")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := c.run("runs", "--store", path)
		if code != exitFailure || !strings.Contains(errOut, "is damaged") || !strings.Contains(errOut, "hint: restore it from a backup: wvbatch store restore BACKUP") {
			t.Errorf("%s store: exit %d\n%s", name, code, errOut)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Errorf("%s store: the file was changed", name)
		}
	}
}
