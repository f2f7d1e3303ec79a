package emg

import "testing"

// TestErrorsSummary counts the files with problems and the problems.
func TestErrorsSummary(t *testing.T) {
	t.Parallel()
	es := Errors{{File: "a.json", Message: "x"}, {File: "a.json", Message: "y"}, {File: "c.json", Message: "z"}}
	want := "2 of 5 messages have problems (3 in all); nothing was sent"
	if got := es.Summary(5).Error(); got != want {
		t.Errorf("Summary = %q; want %q", got, want)
	}
}
