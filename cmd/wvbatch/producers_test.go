package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/report/openpyxl"
)

// producers holds the roster of roster.csv as each spreadsheet program and
// library writes it (made by make.py there; see fixtures.json).
const producers = "../../internal/roster/testdata/producers"

// TestProducerMatrix runs validate and submit --sandbox, as a user would, on
// the roster written by every producer, and compares what they say row by
// row with what they say of the CSV it was made from: the same problems on
// the same rows (counted from the header), the same orders of the same rows;
// rows whose formulas were never calculated are problems instead. Every
// report they write opens in openpyxl.
func TestProducerMatrix(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(producers, "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fixtures map[string]struct {
		HeaderRow    int      `json:"header_row"`
		Uncalculated [][2]any `json:"uncalculated"`
	}
	if err := json.Unmarshal(b, &fixtures); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, nil)
	base := matrixOutcome(t, c, "roster.csv", 1)
	if base.validate.code != exitRows || base.submit.code != exitRows || len(base.submit.orders) != 7 {
		t.Fatalf("roster.csv: validate exit %d, submit exit %d with %d orders; want 3, 3 and 7",
			base.validate.code, base.submit.code, len(base.submit.orders))
	}
	names := make([]string, 0, len(fixtures))
	for name := range fixtures {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fx := fixtures[name]
		t.Run(name, func(t *testing.T) {
			got := matrixOutcome(t, c, name, fx.HeaderRow)
			want := base
			if len(fx.Uncalculated) > 0 {
				formula := map[int]bool{}
				var errs []string
				for _, u := range fx.Uncalculated {
					k := int(u[0].(float64))
					formula[k] = true
					errs = append(errs, fmt.Sprintf("%d %s formula-uncalculated", k, u[1]))
				}
				for _, e := range base.validate.errors {
					var k int
					fmt.Sscan(e, &k)
					if !formula[k] {
						errs = append(errs, e)
					}
				}
				sort.Strings(errs)
				want.validate.errors, want.submit.errors = errs, errs
				want.submit.orders = nil
				for _, o := range base.submit.orders {
					key, rows, _ := strings.Cut(o, " rows ")
					var kept []string
					for _, r := range strings.Fields(rows) {
						var k int
						fmt.Sscan(r, &k)
						if !formula[k] {
							kept = append(kept, r)
						}
					}
					if len(kept) > 0 {
						want.submit.orders = append(want.submit.orders, key+" rows "+strings.Join(kept, " "))
					}
				}
			}
			for _, cmd := range []struct {
				name      string
				got, want commandOutcome
			}{{"validate", got.validate, want.validate}, {"submit", got.submit, want.submit}} {
				if cmd.got.code != cmd.want.code {
					t.Errorf("%s: exit %d, want %d", cmd.name, cmd.got.code, cmd.want.code)
				}
				if !reflect.DeepEqual(cmd.got.errors, cmd.want.errors) {
					t.Errorf("%s: problems\n%q\nwant\n%q", cmd.name, cmd.got.errors, cmd.want.errors)
				}
			}
			if !reflect.DeepEqual(got.submit.orders, want.submit.orders) {
				t.Errorf("orders\n%q\nwant\n%q", got.submit.orders, want.submit.orders)
			}
			t.Run("reports open in openpyxl", func(t *testing.T) {
				openpyxl.Check(t, got.reports...)
			})
		})
	}
}

// commandOutcome is what one command said of a roster: its exit status,
// its problems as "visitor field code" (visitor 1 is the row below the
// header), and the orders it placed as "key rows visitor…".
type commandOutcome struct {
	code   int
	errors []string
	orders []string
}

type matrixResult struct {
	validate, submit commandOutcome
	reports          []string
}

// matrixOutcome runs validate --sandbox --json and submit --sandbox --json
// on a fixture and returns what they said.
func matrixOutcome(t *testing.T, c *cli, name string, header int) matrixResult {
	t.Helper()
	dir := t.TempDir()
	path, err := filepath.Abs(filepath.Join(producers, name))
	if err != nil {
		t.Fatal(err)
	}
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	var res matrixResult

	code, out, stderr := c.run("validate", path, "--sandbox", "--json", "--now", demoNow, "--report-dir", filepath.Join(dir, "v"))
	var sum struct {
		Errors []struct {
			Row   int
			Field string
			Code  string
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("validate %s: exit %d, no JSON summary (%v):\n%s\n%s", name, code, err, out, stderr)
	}
	res.validate.code = code
	for _, e := range sum.Errors {
		res.validate.errors = append(res.validate.errors, fmt.Sprintf("%d %s %s", e.Row-header, e.Field, e.Code))
	}
	sort.Strings(res.validate.errors)
	res.reports = append(res.reports, filepath.Join(dir, "v", stem+"-report.xlsx"))

	code, out, stderr = c.run("submit", path, "--sandbox", "--yes", "--json", "--now", demoNow,
		"--store", filepath.Join(dir, "s.db"), "--report-dir", filepath.Join(dir, "s"))
	res.submit.code = code
	// With --json, stdout is the run's JSON alone (the plan goes to stderr).
	i := strings.Index(out, "{")
	var run struct {
		Orders []struct {
			Key   string
			State string
			Rows  []int
		} `json:"order_list"`
		Problems []struct {
			Row   int
			Field string
			Code  string
		} `json:"errors"`
	}
	if i != 0 || json.Unmarshal([]byte(out), &run) != nil {
		t.Fatalf("submit %s: exit %d, no JSON:\n%s\n%s", name, code, out, stderr)
	}
	for _, o := range run.Orders {
		rows := make([]string, len(o.Rows))
		for j, r := range o.Rows {
			rows[j] = fmt.Sprint(r - header)
		}
		res.submit.orders = append(res.submit.orders, fmt.Sprintf("%s %s rows %s", o.Key, o.State, strings.Join(rows, " ")))
	}
	sort.Strings(res.submit.orders)
	for _, p := range run.Problems {
		res.submit.errors = append(res.submit.errors, fmt.Sprintf("%d %s %s", p.Row-header, p.Field, p.Code))
	}
	sort.Strings(res.submit.errors)
	res.reports = append(res.reports, filepath.Join(dir, "s", stem+"-report.xlsx"))
	return res
}
