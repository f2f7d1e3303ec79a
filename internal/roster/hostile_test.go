package roster

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostile is a file made to cost a reader memory or time, and what the
// reader must say about it.
type hostile struct {
	name  string
	write func(w io.Writer, scale int) error // scale 1: the full-size file
	want  string                             // in the error
}

const hostileHeader = "First Name,Last Name,Email,Company,IBX,Cage,Start,End\n"

var hostileFiles = []hostile{
	// One line of 500 MB: no header, no line break.
	{"one-line.csv", func(w io.Writer, scale int) error {
		return repeat(w, strings.Repeat("a", 1<<20), 500/scale)
	}, "longer than 1 MB"},
	// A quote opened in the first data row and never closed, then 200 MB
	// of rows: all of it would be one field.
	{"open-quote.csv", func(w io.Writer, scale int) error {
		if _, err := io.WriteString(w, hostileHeader+`"Ann,Lee,ann@example.com,Acme,AM1,AM1:01:000111,2027-01-11,2027-01-12`+"\n"); err != nil {
			return err
		}
		return repeat(w, strings.Repeat("Bob,Ray,bob@example.com,Acme,AM1,AM1:01:000111,2027-01-11,2027-01-12\n", 1<<14), 200/scale)
	}, "longer than 1 MB"},
	// A 437 KB workbook whose text table is 300 MB of empty strings.
	{"empty-strings.xlsx", func(w io.Writer, scale int) error {
		return hostileBook(w, func(sst io.Writer) error {
			return repeat(sst, strings.Repeat("<si/>", 1<<20), 60/scale)
		})
	}, "far more than its sheets can use"},
	// A text table of 500 MB of 10 KB strings, for a sheet of one row.
	{"big-strings.xlsx", func(w io.Writer, scale int) error {
		return hostileBook(w, func(sst io.Writer) error {
			return repeat(sst, "<si><t>"+strings.Repeat("x", 10<<10)+"</t></si>", 50000/scale)
		})
	}, "far more than its sheets can use"},
	// A row whose second cell is 100,000 characters.
	{"long-cell.csv", func(w io.Writer, scale int) error {
		_, err := io.WriteString(w, hostileHeader+"Ann,"+strings.Repeat("é", 100000)+",ann@example.com,Acme,AM1,AM1:01:000111,2027-01-11,2027-01-12\n")
		return err
	}, "more than Excel's 32767 per cell"},
	// One text of 100,000 characters.
	{"long-cell.xlsx", func(w io.Writer, scale int) error {
		return hostileBook(w, func(sst io.Writer) error {
			_, err := io.WriteString(sst, "<si><t>"+strings.Repeat("é", 100000)+"</t></si>")
			return err
		})
	}, "longer than Excel's 32767 characters"},
}

func repeat(w io.Writer, s string, n int) error {
	for range max(n, 1) {
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}

// hostileBook writes a workbook with a one-row sheet and the shared
// strings sst writes.
func hostileBook(w io.Writer, sst func(io.Writer) error) error {
	zw := zip.NewWriter(w)
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook ` + ns + `><sheets><sheet name="Visitors" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet ` + ns + `><sheetData>` +
			`<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>`},
	}
	for _, p := range parts {
		pw, err := zw.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, p.body); err != nil {
			return err
		}
	}
	pw, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(pw, 1<<20)
	if _, err := io.WriteString(bw, `<?xml version="1.0" encoding="UTF-8"?><sst `+ns+`>`); err != nil {
		return err
	}
	if err := sst(bw); err != nil {
		return err
	}
	if _, err := io.WriteString(bw, `</sst>`); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

func writeHostile(dir string, h hostile, scale int) (string, error) {
	path := filepath.Join(dir, h.name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = h.write(bw, scale)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}

// TestHostileFiles reads each hostile file, at a tenth of its full size (or
// less), and wants a clear error from a limit within a few seconds.
func TestHostileFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, h := range hostileFiles {
		t.Run(h.name, func(t *testing.T) {
			path, err := writeHostile(dir, h, 10)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = readToEnd(path)
			took := time.Since(start)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Error(), h.want) || fe.Hint == "" {
				t.Fatalf("reading %s: %v; want a *FileError with a hint saying %q", h.name, err, h.want)
			}
			if took > 3*time.Second {
				t.Errorf("reading %s took %s before it stopped", h.name, took)
			}
		})
	}
}

func readToEnd(path string) error {
	s, err := Open(path, ReadOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		if _, err := s.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// TestWriteHostileFiles writes the full-size hostile files into
// $WVBATCH_HOSTILE_DIR, for measuring what `wvbatch validate` costs on
// them (see the README); it writes nothing without it.
func TestWriteHostileFiles(t *testing.T) {
	dir := os.Getenv("WVBATCH_HOSTILE_DIR")
	if dir == "" {
		t.Skip("set WVBATCH_HOSTILE_DIR to write the full-size hostile files")
	}
	for _, h := range hostileFiles {
		path, err := writeHostile(dir, h, 1)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(path, strconv.FormatInt(fi.Size(), 10))
	}
}
