package openpyxl

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter with Debian's python3-openpyxl.
const Python = "/usr/bin/python3"

var (
	once      sync.Once
	available string // "" when available, else why not
)

// Available reports whether openpyxl can be run.
func Available() bool {
	probe()
	return available == ""
}

func probe() {
	once.Do(func() {
		out, err := exec.Command(Python, "-c", "import openpyxl").CombinedOutput()
		if err != nil {
			available = strings.TrimSpace(Python + " -c 'import openpyxl': " + err.Error() + " " + string(out))
		}
	})
}

// Need skips the test (fails it under CI) when openpyxl is not installed.
func Need(t testing.TB) {
	t.Helper()
	probe()
	if available == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("openpyxl is needed (apt-get install python3-openpyxl): %s", available)
	}
	t.Skipf("openpyxl not installed (apt-get install python3-openpyxl); skipped: %s", available)
}

// checkScript opens each workbook as openpyxl does by default and read-only
// (as pandas does), and reads every cell of every sheet.
const checkScript = `
import sys, openpyxl
for p in sys.argv[1:]:
    for ro in (False, True):
        wb = openpyxl.load_workbook(p, read_only=ro)
        for ws in wb.worksheets:
            n = 0
            for row in ws.iter_rows(values_only=True):
                n += len(row)
            if not ro:
                for row in ws.iter_rows():
                    for c in row:
                        _ = c.fill, c.font, c.number_format, c.comment
        wb.close()
`

// Check fails the test when openpyxl cannot open one of the workbooks and
// read all their cells and styles.
func Check(t testing.TB, paths ...string) {
	t.Helper()
	Need(t)
	if out, err := exec.Command(Python, append([]string{"-c", checkScript}, paths...)...).CombinedOutput(); err != nil {
		t.Errorf("openpyxl cannot open %s: %v\n%s", strings.Join(paths, ", "), err, lastLines(string(out), 6))
	}
}

// Run runs a Python script with openpyxl and returns its output.
func Run(t testing.TB, script string, args ...string) string {
	t.Helper()
	Need(t)
	out, err := exec.Command(Python, append([]string{"-c", script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, lastLines(string(out), 10))
	}
	return string(out)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
