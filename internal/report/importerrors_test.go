package report

import (
	"testing"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// TestImportErrors: an invalid row's stored errors give way to the
// import's for that row, however many each has; a row refused by Equinix
// keeps its own, and so does an invalid row the import has none for.
func TestImportErrors(t *testing.T) {
	t.Parallel()
	e := func(row int, msg string) roster.RowError { return roster.RowError{Row: row, Message: msg} }
	stored := []roster.RowError{e(3, "stored a"), e(3, "stored b"), e(5, "refused"), e(7, "stored c"), e(9, "stored d")}
	imported := []roster.RowError{e(3, "imported a"), e(5, "imported b"), e(9, "imported c"), e(9, "imported d")}
	got := ImportErrors(stored, []int{3, 7, 9}, imported)
	want := []roster.RowError{e(3, "imported a"), e(5, "refused"), e(7, "stored c"), e(9, "imported c"), e(9, "imported d")}
	if len(got) != len(want) {
		t.Fatalf("ImportErrors = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ImportErrors = %v, want %v", got, want)
			break
		}
	}
}
