package equinix

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/equinix/spectest"
)

// seedCodes extracts the error codes the seed files mention: Equinix codes
// (EQ-2016006, EQX-161-403) and generic statuses written "Code403".
func seedCodes(t *testing.T) map[string][]string {
	t.Helper()
	dir := spectest.Dir(t)
	files, err := filepath.Glob(filepath.Join(dir, "seeds", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no seed files under %s", dir)
	}
	eq := regexp.MustCompile(`\bEQX?-[0-9]{3,}(?:-[0-9]+)?\b`)
	generic := regexp.MustCompile(`\bCode\s*([0-9]{3})\b`)
	codes := map[string][]string{} // code → files
	for _, file := range files {
		base := filepath.Base(file)
		if strings.HasPrefix(base, "002_") {
			continue // EMG messages: not this API
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range eq.FindAllString(string(b), -1) {
			codes[c] = append(codes[c], base)
		}
		for _, m := range generic.FindAllStringSubmatch(string(b), -1) {
			codes[m[1]] = append(codes[m[1]], base)
		}
	}
	return codes
}

func TestCatalogueCoversSeeds(t *testing.T) {
	t.Parallel()
	codes := seedCodes(t)
	if len(codes) < 15 {
		t.Fatalf("found only %d codes in the seeds; the extraction is broken: %v", len(codes), codes)
	}
	for code, files := range codes {
		if _, ok := Lookup(code); !ok {
			t.Errorf("code %s (in %s) has no catalogue entry", code, strings.Join(slices.Compact(files), ", "))
		}
	}
}

func TestCatalogueRequiredEntries(t *testing.T) {
	t.Parallel()
	for _, code := range []string{
		"EQ-2016011", "EQ-2016006", "EQ-2016007", "EQ-2014005", "EQ-2014007", "EQX-161-403", "EQX-121-403",
		"401", "403", "404", "405", "409", "429", "500",
	} {
		if _, ok := Lookup(code); !ok {
			t.Errorf("no catalogue entry for %s", code)
		}
	}
	if e, ok := Lookup(" eqx-161-403 "); !ok || e.Code != "EQX-161-403" {
		t.Errorf("Lookup is not forgiving about case and spaces: %+v, %v", e, ok)
	}
	if _, ok := Lookup(""); ok {
		t.Error("Lookup(\"\") found an entry")
	}
}

func TestCatalogueEntries(t *testing.T) {
	t.Parallel()
	all := Catalogue()
	if !slices.IsSortedFunc(all, func(a, b Entry) int { return strings.Compare(a.Code, b.Code) }) {
		t.Fatal("catalogue is not sorted by code; Lookup's binary search would miss entries")
	}
	for i, e := range all {
		if i > 0 && all[i-1].Code == e.Code {
			t.Errorf("duplicate entry %s", e.Code)
		}
		if e.Meaning == "" || e.Cause == "" || e.Fix == "" {
			t.Errorf("entry %s has an empty field: %+v", e.Code, e)
		}
		for _, s := range []string{e.Meaning, e.Cause, e.Fix} {
			if !strings.HasSuffix(s, ".") {
				t.Errorf("entry %s: %q is not a sentence", e.Code, s)
			}
		}
		if got, ok := Lookup(e.Code); !ok || got != e {
			t.Errorf("Lookup(%s) = %+v, %v", e.Code, got, ok)
		}
	}
}
