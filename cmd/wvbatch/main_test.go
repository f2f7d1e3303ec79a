package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchJobEnv) != "" {
		benchJob() // a child of BenchmarkValidateCommand
	}
	if start := os.Getenv(steppedClockEnv); start != "" {
		steppedMain(start) // a daemon of TestScheduleDaemonRestart
	}
	if os.Getenv("WVBATCH_RUN_MAIN") == "1" {
		// TestCrashSafety runs this binary as wvbatch, to kill it.
		main()
	}
	testscript.Main(m, map[string]func(){
		"wvbatch": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the command line as a user would: testdata/*.txtar.
// The scripts can read the project's samples and templates as $SAMPLES and
// $TEMPLATES.
func TestScripts(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(e *testscript.Env) error {
			e.Setenv("SAMPLES", filepath.Join(root, "samples"))
			e.Setenv("TEMPLATES", filepath.Join(root, "templates"))
			e.Setenv("XDG_STATE_HOME", filepath.Join(e.WorkDir, "state"))
			e.Setenv("TESTDATA", filepath.Join(root, "cmd", "wvbatch", "testdata"))
			return nil
		},
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":   cmdStatus,
			"freeport": cmdFreePort,
			"waitport": cmdWaitPort,
			"httpget":  cmdHTTPGet,
			"jsononly": cmdJSONOnly,
		},
	})
}

// cmdStatus runs a command and checks its exit status:
//
//	status 3 wvbatch validate roster.csv
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("status: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// TestMemoryLimitFollowsLiveHeap: the soft memory limit is the floor until
// the live heap needs more, then half as much again as is live, so that the
// collector never works against a limit below what is live.
func TestMemoryLimitFollowsLiveHeap(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{{0, memoryLimitFloor}, {60 << 20, memoryLimitFloor}, {74 << 20, memoryLimitFloor}, {80 << 20, 120 << 20}, {200 << 20, 300 << 20}, {1 << 30, 3 << 29}} {
		if got := memoryLimitFor(tc.live); got != tc.want {
			t.Errorf("live %d MB: limit %d MB, want %d MB", tc.live>>20, got>>20, tc.want>>20)
		}
		if got := memoryLimitFor(tc.live); uint64(got) <= tc.live {
			t.Errorf("live %d MB: limit %d MB is not above it", tc.live>>20, got>>20)
		}
	}
}

// TestGCPercentFollowsLiveHeap: a small live heap is collected a quarter
// as often, a larger one as Go's default does.
func TestGCPercentFollowsLiveHeap(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{{0, 400}, {smallHeap - 1, 400}, {smallHeap, 100}, {1 << 30, 100}} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("live %d bytes: GOGC %d, want %d", tc.live, got, tc.want)
		}
	}
}

// cmdFreePort sets an environment variable to a loopback address with a
// port free now:
//
//	freeport ADDR
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("freeport: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	ts.Setenv(args[0], addr)
}

// cmdWaitPort waits, at most 20 seconds, until something listens on ADDR:
//
//	waitport 127.0.0.1:8642
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport ADDR")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitport %s: %v", args[0], err)
		}
		time.Sleep(50 * time.Millisecond) // a script's background command cannot signal: the port is the sign
	}
}

// cmdHTTPGet prints the body of a GET to stdout:
//
//	httpget http://127.0.0.1:8642/sandbox/orders
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpget URL")
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(args[0])
	if err != nil {
		ts.Fatalf("httpget: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.Fatalf("httpget: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		ts.Fatalf("httpget %s: %s", args[0], resp.Status)
	}
	fmt.Fprintf(ts.Stdout(), "%s\n", b)
}

// cmdJSONOnly checks that the last command's stdout is one JSON document
// and nothing else, with snake_case keys only:
//
//	jsononly
func cmdJSONOnly(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: jsononly")
	}
	out := ts.ReadFile("stdout")
	dec := json.NewDecoder(strings.NewReader(out))
	var v any
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		ts.Fatalf("stdout holds more than one JSON document:\n%s", out)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snakeKey.MatchString(k) {
					ts.Fatalf("key %q is not snake_case", k)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

var snakeKey = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
