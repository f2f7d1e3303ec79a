package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

var now = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }

// TestErrorSampleCoversEveryCode keeps samples/contractors-with-errors.csv
// honest: it must show every kind of row error at least once.
func TestErrorSampleCoversEveryCode(t *testing.T) {
	t.Parallel()
	res, err := Import(context.Background(), Options{
		Path:  "../../samples/contractors-with-errors.csv",
		Check: roster.CheckConfig{Now: now},
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range res.Errors {
		seen[e.Code] = true
	}
	codes := []string{
		roster.CodeRequired, roster.CodeNameOrUsername, roster.CodeNameInvalid, roster.CodeTooLong,
		roster.CodeUsernameInvalid, roster.CodeEmailInvalid, roster.CodePhoneInvalid, roster.CodeCountryCodeInvalid,
		roster.CodeCountryCodeMissing, roster.CodeIBXInvalid, roster.CodeCageInvalid, roster.CodeCageNotInIBX,
		roster.CodeCabinetInvalid, roster.CodeCabinetNotInCage, roster.CodeAccountInvalid, roster.CodeZoneUnknown,
		roster.CodeMetroUnknown, roster.CodeDateInvalid, roster.CodeDateAmbiguous, roster.CodeTimeNonexistent,
		roster.CodeEndBeforeStart, roster.CodeStartInPast, roster.CodeOpenCabinetInvalid, roster.CodeDuplicateVisitor,
	}
	for _, c := range codes {
		if !seen[c] {
			t.Errorf("the sample shows no %s error", c)
		}
	}
	if res.ValidRows != 3 || res.InvalidRows != 24 {
		t.Errorf("valid %d, invalid %d; want 3 and 24", res.ValidRows, res.InvalidRows)
	}
}

func TestImportDeterministic(t *testing.T) {
	t.Parallel()
	opt := Options{Path: "../../samples/contractors.xlsx", Check: roster.CheckConfig{Now: now}}
	a, err := Import(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Import(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if a.RunID != b.RunID || len(a.Orders) != len(b.Orders) {
		t.Fatalf("two imports differ: %s/%d vs %s/%d", a.RunID, len(a.Orders), b.RunID, len(b.Orders))
	}
	for i := range a.Orders {
		if a.Orders[i].Reference != b.Orders[i].Reference || !reflect.DeepEqual(a.Orders[i].Visitors, b.Orders[i].Visitors) {
			t.Errorf("order %d differs", i)
		}
	}
	if a.InvalidRows != 0 || a.Summary.SplitWindows == 0 || len(a.Orders) < 4 {
		t.Errorf("contractors.xlsx: %d invalid rows, %d split windows, %d orders; want 0 invalid, a split, ≥4 orders",
			a.InvalidRows, a.Summary.SplitWindows, len(a.Orders))
	}
	for _, o := range a.Orders {
		if o.Count > 50 || o.End.Sub(o.Start) > 14*24*time.Hour {
			t.Errorf("order %s breaks a limit", o.Key)
		}
	}
	// Other settings make another run.
	opt.Order.Description = "Another description for the same roster"
	c, err := Import(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if c.RunID == a.RunID {
		t.Error("a changed description kept the run id")
	}
}

func TestImportFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope.csv"), "nope.csv"},
		{"no cage column", write("nocage.csv", "First Name,Last Name,Company,Visit Start,Visit End\nA,B,C,2027-01-11,2027-01-12\n"), "no Cage column"},
		{"header only", write("header.csv", "Cage,First Name,Last Name,Company,Visit Start,Visit End\n"), ""},
		{"a folder", dir, "is a folder, not a roster file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Import(context.Background(), Options{Path: tt.path, Check: roster.CheckConfig{Now: now}})
			var fe *roster.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("want a *roster.FileError, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) || fe.Hint == "" {
				t.Errorf("error %q (hint %q): want it to mention %q and give a hint", err, fe.Hint, tt.want)
			}
		})
	}
}

// TestImportOfAnIdentity imports a workbook with the identity Identify
// found of it: the result is the import's own, with the identity's hash
// taken as it is (the file is not hashed again) and its order fields.
func TestImportOfAnIdentity(t *testing.T) {
	t.Parallel()
	opt := Options{Path: "../../samples/contractors.xlsx", Check: roster.CheckConfig{Now: now}, Salt: "s", Endpoint: "https://api.example"}
	plain, err := Import(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	id, err := Identify(opt)
	if err != nil {
		t.Fatal(err)
	}
	if id.Hash != plain.Hash || !reflect.DeepEqual(id.Order, plain.Order) || id.RunID(opt) != plain.RunID {
		t.Fatalf("Identify: %+v, run %s; the import: hash %s, order %+v, run %s", id, id.RunID(opt), plain.Hash, plain.Order, plain.RunID)
	}
	opt.Identity = &id
	known, err := Import(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(known, plain) {
		t.Errorf("the import of the identity differs from the import: %+v\n%+v", known, plain)
	}
	other := id
	other.Hash = strings.Repeat("0", 64)
	opt.Identity = &other
	res, err := Import(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Hash != other.Hash || res.RunID == plain.RunID {
		t.Errorf("an import given another hash: hash %s, run %s; want the hash given and a run id of its own", res.Hash, res.RunID)
	}
	if _, err := Identify(Options{Path: filepath.Join(t.TempDir(), "missing.csv")}); err == nil {
		t.Error("Identify of a missing file: no error")
	}
}
