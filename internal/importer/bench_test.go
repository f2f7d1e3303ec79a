package importer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/rostergen"
)

// The roster benchmarks compare a full import (read, check every row, plan)
// with a bare read loop over the same file, measured in the same run, each
// in a child process so that its peak RSS is its own:
//
//	WVBATCH_BENCH_ROWS=1048575 go test -run '^$' -bench Roster -benchtime 1x ./internal/importer/
//
// Each is run WVBATCH_BENCH_RUNS times (default 3), alternating, and the
// medians are reported; peak RSS is the largest of the runs.
//
// Rosters are generated once into WVBATCH_BENCH_DIR (default: a folder in
// the temp dir) and reused.

const childEnv = "WVBATCH_BENCH_CHILD"

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		if err := benchChild(job, os.Getenv("WVBATCH_BENCH_FILE")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchChild runs one measured job and prints the rows it saw.
func benchChild(job, path string) error {
	var rows int
	var err error
	switch job {
	case "bare-xlsx":
		rows, err = rostergen.BareXLSX(path)
	case "bare-csv":
		rows, err = rostergen.BareCSV(path)
	case "import":
		var res *Result
		res, err = Import(context.Background(), Options{
			Path: path, CountOnly: true, OnError: func(roster.RowError) {},
			Check: roster.CheckConfig{Now: func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }},
		})
		if err == nil {
			rows = res.Rows
			fmt.Printf("valid=%d orders=%d\n", res.ValidRows, res.Summary.Orders)
		}
	default:
		err = fmt.Errorf("unknown job %q", job)
	}
	fmt.Printf("rows=%d\n", rows)
	if hwm := vmHWM(); hwm > 0 {
		fmt.Printf("%s%d\n", peakPrefix, hwm)
	}
	return err
}

// peakPrefix starts the line on which a child reports its peak RSS.
const peakPrefix = "peak-rss-bytes="

// vmHWM returns this process's peak resident set size from
// /proc/self/status, or 0. The rusage of a child is no use here: on Linux
// a child started with vfork, as os/exec does, inherits its parent's peak
// in ru_maxrss.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

func benchRoster(b *testing.B, format string) {
	rows := 20000
	if s := os.Getenv("WVBATCH_BENCH_ROWS"); s != "" {
		var err error
		if rows, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	if format == "csv" && rows == rostergen.MaxXLSXRows {
		rows = 1000000
	}
	dir := os.Getenv("WVBATCH_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "wvbatch-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("roster-%d.%s", rows, format))
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		if err := rostergen.WriteFile(path, rostergen.Options{Rows: rows, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %s in %s", path, time.Since(start).Round(time.Millisecond))
	}
	runs := 3
	if s := os.Getenv("WVBATCH_BENCH_RUNS"); s != "" {
		var err error
		if runs, err = strconv.Atoi(s); err != nil || runs < 1 {
			b.Fatalf("WVBATCH_BENCH_RUNS=%q", s)
		}
	}
	bare := "bare-" + format
	for b.Loop() {
		// Alternate the two, and take the median of each: the machine's
		// other work comes and goes.
		var bareTimes, impTimes []time.Duration
		var rssBare, rssImp float64
		for range runs {
			t, rss := runChild(b, bare, path)
			bareTimes, rssBare = append(bareTimes, t), max(rssBare, rss)
			t, rss = runChild(b, "import", path)
			impTimes, rssImp = append(impTimes, t), max(rssImp, rss)
		}
		tBare, tImp := median(bareTimes), median(impTimes)
		b.ReportMetric(tBare.Seconds(), "bare-s")
		b.ReportMetric(tImp.Seconds(), "validate-s")
		b.ReportMetric(tImp.Seconds()/tBare.Seconds(), "ratio")
		b.ReportMetric(float64(rows)/tImp.Seconds(), "rows/s")
		b.ReportMetric(rssBare/1e6, "bare-peakRSS-MB")
		b.ReportMetric(rssImp/1e6, "validate-peakRSS-MB")
	}
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// runChild runs job in a fresh process and returns its wall time and peak RSS.
func runChild(b *testing.B, job, path string) (time.Duration, float64) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+job, "WVBATCH_BENCH_FILE="+path)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", job, err, out)
	}
	b.Logf("%s: %s in %s", job, bytesTrim(out), d.Round(time.Millisecond))
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, peakPrefix); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return d, float64(n)
			}
		}
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss float64
	if ru != nil {
		rss = float64(ru.Maxrss) * 1024
	}
	return d, rss
}

func bytesTrim(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return string(b)
}

func BenchmarkRosterXLSX(b *testing.B) { benchRoster(b, "xlsx") }
func BenchmarkRosterCSV(b *testing.B)  { benchRoster(b, "csv") }
