package roster

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The reader benchmarks compare Open + Next over a generated roster with a
// bare read loop over the same file, measured in the same run; each reports
// its ratio to the bare loop as "x-bare":
//
//	WVBATCH_BENCH_ROWS=100000 go test -run '^$' -bench 'Read|Bare' -benchtime 1x ./internal/roster/
//
// Rosters are generated once per size into the temp dir and reused.

func benchRows(b *testing.B) int {
	n := 20000
	if s := os.Getenv("WVBATCH_BENCH_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("WVBATCH_BENCH_ROWS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// benchFile returns a generated roster of n rows, writing it on first use.
func benchFile(b *testing.B, ext string, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "wvbatch-roster-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(dir, fmt.Sprintf("roster-%d.%s", n, ext))
	if _, err := os.Stat(p); err == nil {
		return p
	}
	tmp := filepath.Join(dir, fmt.Sprintf("roster-%d.tmp.%s", n, ext))
	var err error
	if ext == "xlsx" {
		err = writeStreamBook(tmp, n)
	} else {
		err = writeBenchCSV(tmp, n)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func writeBenchCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	rec := make([]string, NumFields)
	for i := range NumFields {
		rec[i] = i.String()
	}
	w.Write(rec)
	for i := range n {
		rec[FieldIBX] = "AM1"
		rec[FieldCage] = "AM1:01:000111"
		rec[FieldCabinet] = "AM1:01:000111:0101"
		rec[FieldAccount] = "100001"
		rec[FieldStart] = "2027-01-11 08:00"
		rec[FieldEnd] = "2027-01-12 18:00"
		rec[FieldTimeZone] = "Europe/Amsterdam"
		rec[FieldFirstName] = "First" + strconv.Itoa(i)
		rec[FieldLastName] = "Last" + strconv.Itoa(i)
		rec[FieldCompany] = "Voltwerk Installaties B.V."
		rec[FieldUsername] = ""
		rec[FieldEmail] = "visitor" + strconv.Itoa(i) + "@voltwerk.example"
		rec[FieldMobileCountryCode] = "+31"
		rec[FieldMobilePhone] = strconv.Itoa(612345678 + i)
		rec[FieldOpenCabinet] = "N"
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// bareExcelize is excelize's raw-value row loop with no work per row.
func bareExcelize(path string) (int, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := f.Rows("Visitors")
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		cols, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return 0, err
		}
		n += len(cols)
	}
	return n, rows.Close()
}

// bareCSV is encoding/csv with ReuseRecord and no work per row.
func bareCSV(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	n := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n += len(rec)
	}
}

// readRoster reads every record with Open and Read.
func readRoster(path string) (int, error) {
	s, err := Open(path, ReadOptions{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	n := 0
	for {
		_, err := s.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

// benchAgainst runs read b.N times and reports its time as a multiple of
// the bare loop's, run (untimed) before each run of read.
func benchAgainst(b *testing.B, ext string, read, bare func(string) (int, error)) {
	n := benchRows(b)
	p := benchFile(b, ext, n)
	if _, err := bare(p); err != nil { // warm the page cache
		b.Fatal(err)
	}
	var bareTime, readTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		start := time.Now()
		if _, err := bare(p); err != nil {
			b.Fatal(err)
		}
		bareTime += time.Since(start)
		b.StartTimer()
		start = time.Now()
		if _, err := read(p); err != nil {
			b.Fatal(err)
		}
		readTime += time.Since(start)
	}
	b.ReportMetric(float64(n)*float64(b.N)/readTime.Seconds(), "rows/s")
	b.ReportMetric(readTime.Seconds()/bareTime.Seconds(), "x-bare")
}

func benchBare(b *testing.B, ext string, bare func(string) (int, error)) {
	n := benchRows(b)
	p := benchFile(b, ext, n)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := bare(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

func BenchmarkReadXLSX(b *testing.B)     { benchAgainst(b, "xlsx", readRoster, bareExcelize) }
func BenchmarkBareExcelize(b *testing.B) { benchBare(b, "xlsx", bareExcelize) }
func BenchmarkReadCSV(b *testing.B)      { benchAgainst(b, "csv", readRoster, bareCSV) }
func BenchmarkBareCSV(b *testing.B)      { benchBare(b, "csv", bareCSV) }
