package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestCommandWaitsForBusyStore runs `wvbatch runs` as its own process
// while this process holds the store file (as `wvbatch serve` or the
// daemon does while it writes): the command says after a second that it is
// waiting, and carries on once the store is let go; a store held for longer
// than the wait is exit 4 with a hint.
func TestCommandWaitsForBusyStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		release bool
	}{{"let go", true}, {"held", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "s.db")
			st, err := runstore.Open(path, runstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			held := true
			defer func() {
				if held {
					st.Close()
				}
			}()
			cmd := exec.Command(os.Args[0], "runs", "--store", path)
			cmd.Env = childEnv(dir)
			var out bytes.Buffer
			cmd.Stdout = &out
			pipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(pipe)
			first, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("the command said nothing while it waited: %v", err)
			}
			noticed := time.Since(began)
			if !strings.HasPrefix(first, "waiting for another wvbatch to let go of the store "+path) {
				t.Errorf("first line on stderr %q; want it to say it waits", first)
			}
			if noticed < storeWaitNotice {
				t.Errorf("said it waits after %s; want after %s", noticed, storeWaitNotice)
			}
			if tc.release {
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
				held = false
			}
			rest, _ := io.ReadAll(r)
			err = cmd.Wait()
			took := time.Since(began)
			t.Logf("exit %d after %s\n%s%s%s", cmd.ProcessState.ExitCode(), took, out.String(), first, rest)
			if tc.release {
				if err != nil {
					t.Errorf("with the store let go: %v; want the runs listed", err)
				}
				if took > storeWait {
					t.Errorf("took %s; want it to go on as soon as the store is free", took)
				}
				return
			}
			if code := cmd.ProcessState.ExitCode(); code != exitStoreBusy {
				t.Errorf("exit %d with the store held; want %d", code, exitStoreBusy)
			}
			if took < storeWait {
				t.Errorf("gave up after %s; want a wait of %s", took, storeWait)
			}
			if !bytes.Contains(rest, []byte("is in use by another wvbatch (waited 10s)")) || !bytes.Contains(rest, []byte("\nhint: ")) {
				t.Errorf("stderr does not say the store is in use, with a hint:\n%s", rest)
			}
		})
	}
}
