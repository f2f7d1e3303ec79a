package rostergen

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/roster"
)

var update = flag.Bool("update", false, "rewrite the committed sample rosters from what the code produces")

const samplesDir = "../../samples"

// sampleVisit is one visit of a sample roster: a crew at one place for one
// window.
type sampleVisit struct {
	ibx, cage, cabinet, account string
	start, end                  time.Time
	open                        string
	crews                       []sampleCrew
	registered                  bool // one more visitor: the sandbox's registered user
}

type sampleCrew struct {
	company company
	n       int
}

func day(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func findCompany(name string) company {
	for _, set := range cageSets {
		for _, c := range set.companies {
			if c.name == name {
				return c
			}
		}
	}
	panic("no company " + name)
}

func crew(name string, n int) sampleCrew { return sampleCrew{findCompany(name), n} }

// contractorVisits is samples/contractors.xlsx: a quarterly UPS maintenance
// in two cages of AM1. The first visit is three weeks long, so it is cut
// into windows of at most 14 days, and has 70 visitors, so each window
// needs two orders.
var contractorVisits = []sampleVisit{
	{ibx: "AM1", cage: "AM1:01:000112", cabinet: "AM1:01:000112:0201", account: "100001",
		start: day(2027, 1, 12, 9, 0), end: day(2027, 1, 13, 17, 0), open: "Y",
		crews: []sampleCrew{crew("Koelteam Nederland B.V.", 11)}, registered: true},
	{ibx: "AM1", cage: "AM1:01:000111", account: "100001",
		start: day(2027, 1, 11, 8, 0), end: day(2027, 1, 29, 18, 0), open: "N",
		crews: []sampleCrew{
			crew("Voltwerk Installaties B.V.", 30), crew("PowerCare Services Ltd", 20), crew("Delta Elektrotechniek", 19),
		}, registered: true},
	{ibx: "AM1", cage: "AM1:01:000112", cabinet: "0202", account: "100001",
		start: day(2027, 1, 14, 8, 0), end: day(2027, 1, 14, 16, 0), open: "N",
		crews: []sampleCrew{crew("Kabelwerk Amsterdam", 8)}},
	{cage: "AM1:01:000112", account: "100001",
		start: day(2027, 1, 19, 9, 0), end: day(2027, 1, 20, 17, 0), open: "N",
		crews: []sampleCrew{crew("Noordzee Datacenter Services", 8), crew("Thames Critical Power Ltd", 6)}},
	{ibx: "AM1", cage: "AM1:01:000112", cabinet: "AM1:01:000112:0205", account: "100001",
		start: day(2027, 1, 21, 7, 30), end: day(2027, 1, 22, 18, 0), open: "Y",
		crews: []sampleCrew{crew("Fibrelink UK Ltd", 9)}, registered: true},
	{ibx: "AM1", cage: "AM1:01:000112", cabinet: "AM1:01:000112:0203", account: "100001",
		start: day(2027, 1, 26, 8, 0), end: day(2027, 1, 26, 12, 0), open: "Y",
		crews: []sampleCrew{crew("Voltwerk Installaties B.V.", 6)}},
}

// monthlyVisit is samples/monthly-maintenance.csv: the crew of a recurring
// job, whose schedule supplies the window.
var monthlyVisit = []sampleVisit{
	{ibx: "DC2", cage: "DC2:01:123456", account: "200001", open: "N",
		crews: []sampleCrew{crew("Atlantic Power Systems Inc.", 5), crew("Keystone UPS Services", 3)}},
}

var contractorsOrder = roster.OrderFields{
	Description:          "Quarterly UPS maintenance by contractors",
	ReferencePrefix:      "UPS-Q1",
	TechnicalContact:     "facilities.lead",
	NotificationContacts: []string{"noc.amsterdam"},
	PurchaseOrder:        "",
	ReportEmails:         []string{"facilities@acme.example"},
}

// sampleRows lays out the visits' rows; seed varies the numbers and
// firstName chooses the first visitor's name.
func sampleRows(visits []sampleVisit, seed uint64, firstName int) []row {
	rng := rand.New(rand.NewPCG(seed, 1))
	var rows []row
	j := firstName
	for _, v := range visits {
		base := row{start: v.start, end: v.end}
		t := &base.text
		t[roster.FieldIBX], t[roster.FieldCage], t[roster.FieldCabinet] = v.ibx, v.cage, v.cabinet
		t[roster.FieldAccount], t[roster.FieldOpenCabinet] = v.account, v.open
		jane := -1
		if v.registered {
			jane = 3
		}
		n := 0
		for _, c := range v.crews {
			for range c.n {
				if n == jane {
					r := base
					r.text[roster.FieldUsername] = registeredVisitor
					rows = append(rows, r)
					n++
				}
				r := base
				t := &r.text
				// Every (first, last) pair differs for the first 48×48 visitors.
				first := firstNames[j*29%len(firstNames)]
				last := lastNames[(j*17+j/len(firstNames))%len(lastNames)]
				j++
				t[roster.FieldFirstName], t[roster.FieldLastName], t[roster.FieldCompany] = first, last, c.company.name
				if rng.IntN(10) < 9 {
					t[roster.FieldEmail] = slug(first) + "." + slug(last) + "@" + c.company.domain
				}
				if rng.IntN(10) < 8 {
					t[roster.FieldMobileCountryCode] = c.company.countryCode
					t[roster.FieldMobilePhone] = mobile(rng, c.company.countryCode)
				}
				rows = append(rows, r)
				n++
			}
		}
	}
	return rows
}

func rowSource(rows []row) func(*row) {
	i := 0
	return func(r *row) { *r = rows[i]; i++ }
}

type sample struct {
	name  string
	build func() ([]byte, error)
}

func samples() []sample {
	contractors := sampleRows(contractorVisits, 2027, 0)
	monthly := sampleRows(monthlyVisit, 2028, 1000)
	return []sample{
		{"contractors.xlsx", func() ([]byte, error) {
			var b bytes.Buffer
			err := writeXLSX(&b, allFields, len(contractors), rowSource(contractors), contractorsOrder)
			return b.Bytes(), err
		}},
		{"contractors.csv", func() ([]byte, error) {
			var b bytes.Buffer
			err := writeCSV(&b, allFields, 20, rowSource(contractors), "2006-01-02T15:04")
			return b.Bytes(), err
		}},
		{"monthly-maintenance.csv", func() ([]byte, error) {
			var b bytes.Buffer
			err := writeCSV(&b, undatedFields, len(monthly), rowSource(monthly), csvDateLayout)
			return b.Bytes(), err
		}},
	}
}

// TestSamples checks that the committed sample rosters are what the code
// makes; with -update it rewrites them.
func TestSamples(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			want, err := s.build()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(samplesDir, s.name)
			if *update {
				if err := os.MkdirAll(samplesDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go test ./internal/rostergen -run TestSamples -update)", err)
			}
			if strings.HasSuffix(s.name, ".csv") {
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from what the code makes; run: go test ./internal/rostergen -run TestSamples -update", path)
				}
				return
			}
			if g, w := workbookCells(t, got), workbookCells(t, want); !reflect.DeepEqual(g, w) {
				t.Errorf("%s holds other cells than the code makes; run: go test ./internal/rostergen -run TestSamples -update", path)
			}
		})
	}
}

// workbookCells returns every sheet's raw cell values, and the number format
// of every cell that has one.
func workbookCells(t *testing.T, data []byte) map[string][][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		out[sheet] = rows
		var formats []string
		for r, cells := range rows {
			for c := range cells {
				cell := fmt.Sprintf("%s%d", roster.ColumnName(c), r+1)
				id, err := f.GetCellStyle(sheet, cell)
				if err != nil {
					t.Fatal(err)
				}
				if st, err := f.GetStyle(id); err == nil && st.CustomNumFmt != nil {
					formats = append(formats, cell+" "+*st.CustomNumFmt)
				}
			}
		}
		out[sheet+" formats"] = [][]string{formats}
	}
	return out
}

func buildSample(t *testing.T, name string) []byte {
	t.Helper()
	for _, s := range samples() {
		if s.name == name {
			b, err := s.build()
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no sample %s", name)
	return nil
}

// visitKey names a visit as the planner groups visitors: place, window and
// Open Cabinet.
func visitKey(v roster.Visitor) string {
	loc, _ := time.LoadLocation(v.Zone)
	return fmt.Sprintf("%s %s %s–%s open=%t", v.Cage, cmpOrDash(v.Cabinet),
		v.Start.In(loc).Format("2006-01-02 15:04"), v.End.In(loc).Format("2006-01-02 15:04"), v.OpenCabinet)
}

func cmpOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func TestSampleContractors(t *testing.T) {
	t.Parallel()
	h, recs := readRoster(t, buildSample(t, "contractors.xlsx"), "xlsx")
	visitors, errs := check(t, h, recs, roster.CheckConfig{})
	for _, e := range errs {
		t.Error(e)
	}
	if len(visitors) != 120 {
		t.Errorf("%d visitors, want 120", len(visitors))
	}
	visits := map[string]int{}
	users := 0
	for _, v := range visitors {
		visits[visitKey(v)]++
		if v.Username != "" {
			users++
		}
		if v.Account != "100001" || v.IBX != "AM1" {
			t.Errorf("row %d: IBX %s account %s, want AM1 and 100001", v.Row, v.IBX, v.Account)
		}
	}
	want := map[string]int{
		"AM1:01:000111 - 2027-01-11 08:00–2027-01-29 18:00 open=false":                  70,
		"AM1:01:000112 AM1:01:000112:0201 2027-01-12 09:00–2027-01-13 17:00 open=true":  12,
		"AM1:01:000112 AM1:01:000112:0202 2027-01-14 08:00–2027-01-14 16:00 open=false": 8,
		"AM1:01:000112 - 2027-01-19 09:00–2027-01-20 17:00 open=false":                  14,
		"AM1:01:000112 AM1:01:000112:0205 2027-01-21 07:30–2027-01-22 18:00 open=true":  10,
		"AM1:01:000112 AM1:01:000112:0203 2027-01-26 08:00–2027-01-26 12:00 open=true":  6,
	}
	if !reflect.DeepEqual(visits, want) {
		for _, k := range slices.Sorted(maps.Keys(visits)) {
			t.Errorf("visit %s: %d visitors (want %d)", k, visits[k], want[k])
		}
	}
	if users != 3 {
		t.Errorf("%d rows with a username, want 3", users)
	}

	f, err := excelize.OpenReader(bytes.NewReader(buildSample(t, "contractors.xlsx")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	order := map[string]string{}
	rows, err := f.GetRows("Order")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		r = append(r, "", "")
		order[r[0]] = r[1]
	}
	for label, want := range map[string]string{
		"Description": "Quarterly UPS maintenance by contractors", "Customer Reference Prefix": "UPS-Q1",
		"Technical Contact": "facilities.lead", "Notification Contacts": "noc.amsterdam", "Purchase Order": "",
		"Report Email": "facilities@acme.example",
	} {
		if order[label] != want {
			t.Errorf("Order %s = %q, want %q", label, order[label], want)
		}
	}
}

func TestSampleContractorsCSV(t *testing.T) {
	t.Parallel()
	h, recs := readRoster(t, buildSample(t, "contractors.csv"), "csv")
	visitors, errs := check(t, h, recs, roster.CheckConfig{})
	for _, e := range errs {
		t.Error(e)
	}
	if len(visitors) != 20 {
		t.Fatalf("%d visitors, want 20", len(visitors))
	}
	if got := recs[0].Value(roster.FieldStart); got != "2027-01-12T09:00" {
		t.Errorf("first Visit Start = %q, want ISO 2027-01-12T09:00", got)
	}

	// The same visitors as the workbook's first 20 rows.
	_, xrecs := readRoster(t, buildSample(t, "contractors.xlsx"), "xlsx")
	xvisitors, _ := check(t, h, xrecs[:20], roster.CheckConfig{})
	for i := range visitors {
		if !reflect.DeepEqual(visitors[i], xvisitors[i]) {
			t.Errorf("row %d: csv %+v, xlsx %+v", i+2, visitors[i], xvisitors[i])
		}
	}
}

func TestSampleMonthlyMaintenance(t *testing.T) {
	t.Parallel()
	h, recs := readRoster(t, buildSample(t, "monthly-maintenance.csv"), "csv")
	if h.Has(roster.FieldStart) || h.Has(roster.FieldEnd) {
		t.Fatalf("header %q has visit dates; the schedule supplies them", h.Columns)
	}
	if errs := roster.MissingColumns(h, roster.CheckConfig{}); len(errs) != 2 {
		t.Errorf("without a window, missing columns = %v, want Visit Start and Visit End", errs)
	}
	window := func(loc *time.Location) (time.Time, time.Time, error) {
		return time.Date(2027, 2, 1, 8, 0, 0, 0, loc), time.Date(2027, 2, 1, 17, 0, 0, 0, loc), nil
	}
	visitors, errs := check(t, h, recs, roster.CheckConfig{Window: window})
	for _, e := range errs {
		t.Error(e)
	}
	if len(visitors) != 8 {
		t.Errorf("%d visitors, want 8", len(visitors))
	}
	for _, v := range visitors {
		if v.IBX != "DC2" || v.Cage != "DC2:01:123456" || v.Account != "200001" || v.Zone != "America/New_York" {
			t.Errorf("row %d: %s %s %s %s, want DC2, DC2:01:123456, 200001 in America/New_York", v.Row, v.IBX, v.Cage, v.Account, v.Zone)
		}
	}
}
