package importer

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/preflight"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// producersDir holds the roster of roster.csv as each producer writes it,
// made by make.py there.
const producersDir = "../roster/testdata/producers"

// producerFixture is what fixtures.json says of one file.
type producerFixture struct {
	What      string `json:"what"`
	HeaderRow int    `json:"header_row"`
	// Hidden are the visitors (1 = the first data row) hidden in the
	// workbook.
	Hidden []int `json:"hidden"`
	// Order is the Order sheet's content, when the workbook has one.
	Order *struct {
		Description          string
		ReferencePrefix      string
		TechnicalContact     string
		NotificationContacts []string
		PurchaseOrder        string
	} `json:"order"`
	// Uncalculated are [visitor, column] of formulas with no saved value.
	Uncalculated [][2]any `json:"uncalculated"`
	// Numbers: the code columns are number cells (Cabinet 0101 is 101).
	Numbers bool `json:"numbers"`
}

func loadProducerFixtures(t *testing.T) map[string]producerFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(producersDir, "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx map[string]producerFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx) < 25 {
		t.Fatalf("fixtures.json lists %d fixtures; run make.py", len(fx))
	}
	return fx
}

// rowOutcome is what became of one visitor row, without its row number.
type rowOutcome struct {
	Visitor *roster.Visitor // nil when the row is invalid
	Errors  []string        // "Field code", sorted
}

// outcomes imports path and returns each data row's outcome by its place
// below the header (1 = the first visitor).
func outcomes(t *testing.T, res *Result) map[int]rowOutcome {
	t.Helper()
	out := map[int]rowOutcome{}
	k := func(row int) int { return row - res.Header.Row }
	for _, o := range res.Orders {
		for _, v := range o.Visitors {
			v := v
			i := k(v.Row)
			if _, dup := out[i]; dup {
				continue // a visitor in two orders of a split window
			}
			// What kind of cell a code came from is not part of the visitor.
			v.Row, v.CabinetIsNumber, v.AccountIsNumber = 0, false, false
			out[i] = rowOutcome{Visitor: &v}
		}
	}
	for _, e := range res.Errors {
		i := k(e.Row)
		ro := out[i]
		ro.Errors = append(ro.Errors, e.Field+" "+e.Code)
		sort.Strings(ro.Errors)
		out[i] = ro
	}
	return out
}

// sandboxPreflight is a pre-flight against an in-process sandbox with the
// seeded account, through the real Equinix client.
func sandboxPreflight(t *testing.T) Preflight {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client, err := equinix.New(equinix.Config{Endpoint: ts.URL, ClientID: sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret, RateLimit: -1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return preflight.New(client)
}

// TestProducerFixtures reads the same roster as every producer writes it
// (internal/roster/testdata/producers) and checks that each file gives, row
// by row, what the CSV it was made from gives: the same visitors, the same
// problems, the Order sheet, and notes for rows hidden in the workbook.
// Each is read offline and with the pre-flight against the sandbox.
func TestProducerFixtures(t *testing.T) {
	t.Parallel()
	fixtures := loadProducerFixtures(t)
	clock := func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }
	for _, online := range []bool{false, true} {
		mode := "offline"
		if online {
			mode = "online"
		}
		imp := func(t *testing.T, path string) *Result {
			t.Helper()
			opt := Options{Path: path, Check: roster.CheckConfig{Now: clock}}
			if online {
				opt.Preflight = sandboxPreflight(t)
			}
			res, err := Import(context.Background(), opt)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return res
		}
		base := imp(t, filepath.Join(producersDir, "roster.csv"))
		if base.Rows != 10 || base.ValidRows != 9 {
			t.Fatalf("roster.csv %s: %d rows, %d valid; want 10 and 9", mode, base.Rows, base.ValidRows)
		}
		want := outcomes(t, base)
		cabinets := visitorsWith(t, "Cabinet")
		names := make([]string, 0, len(fixtures))
		for name := range fixtures {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fx := fixtures[name]
			t.Run(mode+"/"+name, func(t *testing.T) {
				res := imp(t, filepath.Join(producersDir, name))
				if res.Header.Row != fx.HeaderRow {
					t.Errorf("header on row %d, want %d", res.Header.Row, fx.HeaderRow)
				}
				exp := map[int]rowOutcome{}
				for k, o := range want {
					exp[k] = o
				}
				for _, u := range fx.Uncalculated {
					k, col := int(u[0].(float64)), u[1].(string)
					exp[k] = rowOutcome{Errors: []string{col + " " + roster.CodeFormulaUncalculated}}
				}
				if fx.Numbers && !online {
					// Offline nothing tells 101 from the cabinet 0101.
					for _, k := range cabinets {
						o := exp[k]
						o.Visitor = nil
						o.Errors = append(append([]string(nil), o.Errors...), "Cabinet "+roster.CodeCabinetNumber)
						sort.Strings(o.Errors)
						exp[k] = o
					}
				}
				got := outcomes(t, res)
				for k := 1; k <= 10; k++ {
					if !reflect.DeepEqual(got[k], exp[k]) {
						t.Errorf("visitor %d (row %d):\n got %s\nwant %s", k, res.Header.Row+k, describe(got[k]), describe(exp[k]))
					}
				}
				if len(got) != len(exp) {
					t.Errorf("%d rows with an outcome, want %d", len(got), len(exp))
				}
				var notes []string
				for _, w := range res.Warnings {
					if !strings.Contains(w, "is not a visitor column") {
						notes = append(notes, w)
					}
				}
				var wantNotes []string
				if len(fx.Hidden) > 0 {
					var rows roster.RowSet
					for _, k := range fx.Hidden {
						rows.Add(fx.HeaderRow + k)
					}
					wantNotes = append(wantNotes, roster.HiddenRowsNote(&rows))
				}
				if !reflect.DeepEqual(notes, wantNotes) {
					t.Errorf("notes %q, want %q", notes, wantNotes)
				}
				if fx.Order != nil {
					o := res.Order
					got := [5]any{o.Description, o.ReferencePrefix, o.TechnicalContact, o.NotificationContacts, o.PurchaseOrder}
					w := fx.Order
					want := [5]any{w.Description, w.ReferencePrefix, w.TechnicalContact, w.NotificationContacts, w.PurchaseOrder}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("order fields %q, want %q", got, want)
					}
				}
			})
		}
	}
}

// visitorsWith lists the visitors (1 = the first) whose column is filled
// in roster.csv.
func visitorsWith(t *testing.T, column string) []int {
	t.Helper()
	f, err := os.Open(filepath.Join(producersDir, "roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(recs[0], column)
	var ks []int
	for k, rec := range recs[1:] {
		if rec[col] != "" {
			ks = append(ks, k+1)
		}
	}
	return ks
}

func describe(o rowOutcome) string {
	if o.Visitor == nil {
		return fmt.Sprintf("invalid %q", o.Errors)
	}
	v := o.Visitor
	return fmt.Sprintf("%s|%s|%s|%s|%s→%s %s|%s|%s|%s|%s|%s|%s %s|open=%v %q", v.IBX, v.Cage, v.Cabinet, v.Account,
		v.Start.Format(time.RFC3339), v.End.Format(time.RFC3339), v.Zone, v.FirstName, v.LastName, v.Company, v.Username,
		v.Email, v.MobileCountryCode, v.MobilePhone, v.OpenCabinet, o.Errors)
}
