package main

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

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/rostergen"
)

// The whole-command benchmark: `wvbatch validate` with its report (the
// annotated workbook, the errors CSV and summary.json), against the import
// alone (read, check, plan) and against a bare read loop over the same
// file, each run as its own process so that its time and peak RSS are its
// own, alternating, medians of WVBATCH_BENCH_RUNS runs (default 3):
//
//	WVBATCH_BENCH_ROWS=1048575 go test -run '^$' -bench ValidateCommand -benchtime 1x ./cmd/wvbatch/
//
// Rosters (0% and 2% invalid rows) are generated once into
// WVBATCH_BENCH_DIR (default: a folder in the temp dir) and reused; a CSV of
// 1,048,575 rows is made 1,000,000 rows, like the import benchmark's.
// Peak RSS is /usr/bin/time's when it is installed.

// benchJobEnv names the job a child of the benchmark runs.
const benchJobEnv = "WVBATCH_BENCH_JOB"

// benchJob runs one measured job in this process, when asked to.
func benchJob() {
	job, path := os.Getenv(benchJobEnv), os.Getenv("WVBATCH_BENCH_FILE")
	var err error
	switch job {
	case "bare-xlsx":
		_, err = rostergen.BareXLSX(path)
	case "bare-csv":
		_, err = rostergen.BareCSV(path)
	case "import":
		_, err = importer.Import(context.Background(), importer.Options{Path: path, CountOnly: true,
			Check: roster.CheckConfig{Now: func() time.Time { return benchNow }}})
	default:
		err = fmt.Errorf("unknown job %q", job)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

var benchNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func BenchmarkValidateCommand(b *testing.B) {
	rows := 20000
	if s := os.Getenv("WVBATCH_BENCH_ROWS"); s != "" {
		var err error
		if rows, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	for _, format := range []string{"xlsx", "csv"} {
		for _, rate := range []float64{0, 0.02} {
			b.Run(fmt.Sprintf("%s/invalid=%g%%", format, rate*100), func(b *testing.B) {
				n := rows
				if format == "csv" && n == rostergen.MaxXLSXRows {
					n = 1000000
				}
				benchValidate(b, format, n, rate, false)
			})
		}
	}
	// Every row its own order: the plan, the Summary sheet and
	// summary.json as long as the roster.
	b.Run("xlsx/order-per-row", func(b *testing.B) { benchValidate(b, "xlsx", rows, 0, true) })
}

func benchValidate(b *testing.B, format string, rows int, rate float64, orderPerRow bool) {
	dir := os.Getenv("WVBATCH_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "wvbatch-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	name := fmt.Sprintf("roster-%d-%g", rows, rate)
	if orderPerRow {
		name += "-order-per-row"
	}
	path := filepath.Join(dir, name+"."+format)
	if _, err := os.Stat(path); err != nil {
		if err := rostergen.WriteFile(path, rostergen.Options{Rows: rows, Seed: 1, ErrorRate: rate, OrderPerRow: orderPerRow}); err != nil {
			b.Fatal(err)
		}
	}
	runs := 3
	if s := os.Getenv("WVBATCH_BENCH_RUNS"); s != "" {
		var err error
		if runs, err = strconv.Atoi(s); err != nil || runs < 1 {
			b.Fatalf("WVBATCH_BENCH_RUNS=%q", s)
		}
	}
	out := b.TempDir()
	jobs := []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"bare", func() *exec.Cmd { return benchChild(benchJobEnv+"=bare-"+format, "WVBATCH_BENCH_FILE="+path) }},
		{"import", func() *exec.Cmd { return benchChild(benchJobEnv+"=import", "WVBATCH_BENCH_FILE="+path) }},
		{"validate", func() *exec.Cmd {
			c := benchChild("WVBATCH_RUN_MAIN=1", "HOME="+out, "XDG_STATE_HOME="+out)
			c.Args = append(c.Args, "validate", path, "--now", benchNow.Format(time.RFC3339), "--report-dir", out)
			return c
		}},
	}
	for b.Loop() {
		times := make([][]time.Duration, len(jobs))
		cpus := make([][]time.Duration, len(jobs))
		peaks := make([]int64, len(jobs))
		for range runs {
			for i, j := range jobs {
				d, cpu, rss := measure(b, j.name, j.cmd())
				times[i] = append(times[i], d)
				cpus[i] = append(cpus[i], cpu)
				peaks[i] = max(peaks[i], rss)
			}
		}
		median := func(ds []time.Duration) float64 {
			slices.Sort(ds)
			return ds[len(ds)/2].Seconds()
		}
		med := make([]float64, len(jobs))
		cpu := make([]float64, len(jobs))
		for i := range jobs {
			med[i], cpu[i] = median(times[i]), median(cpus[i])
		}
		bare, imp, val := med[0], med[1], med[2]
		b.ReportMetric(bare, "bare-s")
		b.ReportMetric(imp, "import-s")
		b.ReportMetric(val, "validate-s")
		b.ReportMetric(val/imp, "validate/import")
		b.ReportMetric(val/bare, "validate/bare")
		b.ReportMetric(imp/bare, "import/bare")
		b.ReportMetric(val/float64(rows)*1e6, "validate-µs/row")
		// CPU time (user + system) is the steadier measure on a machine
		// that other work shares.
		b.ReportMetric(cpu[0], "bare-cpu-s")
		b.ReportMetric(cpu[1], "import-cpu-s")
		b.ReportMetric(cpu[2], "validate-cpu-s")
		b.ReportMetric(cpu[2]/cpu[1], "validate/import-cpu")
		b.ReportMetric(cpu[2]/cpu[0], "validate/bare-cpu")
		b.ReportMetric(cpu[2]/float64(rows)*1e6, "validate-cpu-µs/row")
		b.ReportMetric(float64(peaks[1])/1e6, "import-peakRSS-MB")
		b.ReportMetric(float64(peaks[2])/1e6, "validate-peakRSS-MB")
	}
}

// benchChild is this test binary run as a child with env added: it runs a
// job (see benchJob) or, with WVBATCH_RUN_MAIN=1, wvbatch itself.
func benchChild(env ...string) *exec.Cmd {
	c := exec.Command(os.Args[0])
	c.Env = append(os.Environ(), env...)
	return c
}

// measure runs a child, through /usr/bin/time when it is installed, and
// returns its wall time, CPU time (user + system, the child's own and its
// children's) and peak RSS in bytes.
func measure(b *testing.B, name string, c *exec.Cmd) (time.Duration, time.Duration, int64) {
	timeTool := "/usr/bin/time"
	useTime := false
	if _, err := os.Stat(timeTool); err == nil {
		useTime = true
		c.Args = append([]string{timeTool, "-f", "peak-rss-kb=%M", c.Path}, c.Args[1:]...)
		c.Path = timeTool
	}
	start := time.Now()
	out, err := c.CombinedOutput()
	d := time.Since(start)
	if err != nil && !(name == "validate" && c.ProcessState.ExitCode() == exitRows) {
		b.Fatalf("%s: %v\n%s", name, err, out)
	}
	var rss int64
	if useTime {
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "peak-rss-kb="); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				rss = kb * 1024
			}
		}
	} else if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	cpu := c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	b.Logf("%s: %s, CPU %s, peak RSS %d MB", name, d.Round(time.Millisecond), cpu.Round(time.Millisecond), rss>>20)
	return d, cpu, rss
}
