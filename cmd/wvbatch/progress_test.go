//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestSubmitInterruptProgress sends SIGINT to `wvbatch submit` in the
// middle of a run against a slow sandbox, once with stderr on a terminal (a
// pseudo-terminal: the progress bar) and once with it in a file (log
// lines): the last progress shown is where the run stopped, the count the
// store holds, not 100%; and its rate is orders per second of wall time.
func TestSubmitInterruptProgress(t *testing.T) {
	t.Parallel()
	for _, onTerminal := range []bool{true, false} {
		name := "log lines"
		if onTerminal {
			name = "bar on a terminal"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv, url, roster := slowSandbox(t, dir)
			store := filepath.Join(dir, "s.db")
			cmd := exec.Command(os.Args[0], "submit", roster, "--yes", "--now", crashNow, "--endpoint", url, "--store", store,
				"--concurrency", "2", "--no-preflight", "--log-level", "info", "--log-format", "json")
			cmd.Env = childEnv(dir)
			var out bytes.Buffer
			cmd.Stdout = &out
			var readErr func() ([]byte, error)
			if onTerminal {
				master, slave, err := openPTY()
				if err != nil {
					t.Skipf("no pseudo-terminal: %v", err)
				}
				defer master.Close()
				cmd.Stderr = slave
				ch := make(chan []byte, 1)
				go func() {
					b, _ := io.ReadAll(master) // EIO once the child and our copy of the slave are closed
					ch <- b
				}()
				readErr = func() ([]byte, error) {
					slave.Close()
					select {
					case b := <-ch:
						return b, nil
					case <-time.After(10 * time.Second):
						return nil, errors.New("the terminal was not closed")
					}
				}
			} else {
				var errOut bytes.Buffer
				cmd.Stderr = &errOut
				readErr = func() ([]byte, error) { return errOut.Bytes(), nil }
			}
			began := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitOrders(t, srv, 20*time.Second, 1)
			firstOrder := time.Now()
			waitOrders(t, srv, 20*time.Second, 3)
			interrupted := time.Now()
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			werr := cmd.Wait()
			ended := time.Now()
			stderr, err := readErr()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("submit → %v\n%s%q", werr, out.String(), stderr)
			if code := cmd.ProcessState.ExitCode(); code != exitFailure {
				t.Fatalf("exit %d after SIGINT, want %d", code, exitFailure)
			}
			m := regexp.MustCompile(`resume with: wvbatch resume (r[0-9a-f]+)`).FindSubmatch(stderr)
			if m == nil {
				t.Fatal("stderr does not say how to resume")
			}
			run, _ := storedRows(t, store, string(m[1]))
			total := 0
			for _, n := range run.Orders {
				total += n
			}
			done := run.Orders[runstore.Submitted] + run.Orders[runstore.Rejected] + run.Orders[runstore.Cancelled]
			if done == 0 || done >= total {
				t.Fatalf("the store holds %d of %d orders done; want the run stopped part way", done, total)
			}

			var shownDone, shownTotal int
			var rate float64
			if onTerminal {
				// The bar is redrawn in place: its last drawing is after the
				// last carriage return.
				frames := strings.Split(string(stderr), "\r")
				var last string
				for _, fr := range frames {
					if strings.HasPrefix(fr, "ordering [") {
						last = fr
					}
				}
				bm := regexp.MustCompile(`^ordering \[[= ]{30}\] (\d+)/(\d+) orders \((\d+)%\)(?:, \d+ refused)?(?:, ([0-9.]+) orders/s)?.* – stopped`).FindStringSubmatch(last)
				if bm == nil {
					t.Fatalf("the bar's last drawing %q does not show a stopped run", last)
				}
				shownDone, _ = strconv.Atoi(bm[1])
				shownTotal, _ = strconv.Atoi(bm[2])
				if pct, _ := strconv.Atoi(bm[3]); pct != done*100/total {
					t.Errorf("the bar ends at %d%%; the store holds %d of %d orders done", pct, done, total)
				}
				if bm[4] == "" {
					t.Fatalf("the bar's last drawing %q shows no rate", last)
				}
				rate, _ = strconv.ParseFloat(bm[4], 64)
			} else {
				var last struct {
					Msg     string  `json:"message"`
					Done    int     `json:"orders_done"`
					Total   int     `json:"orders_total"`
					Rate    float64 `json:"orders_per_s"`
					Stopped bool    `json:"stopped"`
				}
				sc := bufio.NewScanner(bytes.NewReader(stderr))
				for sc.Scan() {
					var l struct {
						Msg string `json:"message"`
					}
					if json.Unmarshal(sc.Bytes(), &l) == nil && strings.HasPrefix(l.Msg, "progress") {
						if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
							t.Fatal(err)
						}
					}
				}
				if last.Msg != "progress: the run ended" || !last.Stopped {
					t.Fatalf("the last progress line is %+v; want the run's end, stopped", last)
				}
				shownDone, shownTotal, rate = last.Done, last.Total, last.Rate
			}
			if shownDone != done || shownTotal != total {
				t.Errorf("the last progress shows %d/%d orders; the store holds %d of %d done", shownDone, shownTotal, done, total)
			}
			// Wall time: the run, up to its last progress, took at most the
			// process's life, and at least the time from its first order
			// reaching the sandbox to the interrupt.
			lo, hi := float64(done)/ended.Sub(began).Seconds(), float64(done)/interrupted.Sub(firstOrder).Seconds()
			if rate < lo*0.95-0.1 || rate > hi*1.05+0.1 {
				t.Errorf("rate %.2f orders/s; %d orders in %s to %s of wall time is %.2f to %.2f", rate, done,
					interrupted.Sub(firstOrder).Round(time.Millisecond), ended.Sub(began).Round(time.Millisecond), lo, hi)
			}
		})
	}
}

// openPTY opens a pseudo-terminal and returns its master and slave ends.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}
