package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// TestAppendPlannedOrderIsMarshalIndent writes plan items both ways: the
// same bytes for ordinary orders and for every kind of text and time
// encoding/json writes its own way.
func TestAppendPlannedOrderIsMarshalIndent(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"", "DC2", "DC2:01:123456", "a\"b", `back\slash`, "<tag>&amp;", "tab\there", "line\nbreak", "\x00\x1f\x7f",
		"Renée", "中文", "\u2028\u2029", "\xff\xfe bad", "GEN-Y5SI5Q5Q-SMMMTPSZ", "DC2:01:123456/DC2:01:123456:0105/200001/1799672400-1799787600/true/w0/p0"}
	times := []time.Time{{}, time.Date(2027, 1, 11, 13, 0, 0, 0, time.UTC), time.Date(2027, 3, 14, 8, 30, 15, 123456789, ny),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800))}
	rng := rand.New(rand.NewPCG(1, 2))
	// Mostly text the fast path writes, sometimes text it leaves to
	// encoding/json.
	simple := []string{"", "DC2", "DC2:01:123456", "GEN-Y5SI5Q5Q-SMMMTPSZ", "2027-01-11 08:00 EST", "America/New_York"}
	pick := func() string {
		if rng.IntN(30) == 0 {
			return texts[rng.IntN(len(texts))]
		}
		return simple[rng.IntN(len(simple))]
	}
	for i := range 3000 {
		o := PlannedOrder{Key: pick(), CustomerReference: pick(), IBX: pick(), Cabinet: pick(), Account: pick(),
			Start: times[rng.IntN(len(times))], End: times[rng.IntN(len(times))], Zone: pick(), LocalStart: pick(), LocalEnd: pick(),
			OpenCabinet: rng.IntN(2) == 0, Visitors: rng.IntN(3000) - 5}
		switch rng.IntN(4) {
		case 0:
		case 1:
			o.Cages = []string{}
		default:
			for range 1 + rng.IntN(3) {
				o.Cages = append(o.Cages, pick())
			}
		}
		want, werr := json.MarshalIndent(&o, "    ", "  ")
		got, gerr := appendPlannedOrder([]byte("prefix"), &o)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("item %d %+v: error %v, encoding/json: %v", i, o, gerr, werr)
		}
		if werr == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("item %d %+v:\n%s\nencoding/json:\n%s", i, o, got, want)
		}
	}
}

// TestAppendRowErrorIsMarshalIndent writes row errors both ways: the same
// bytes for every ASCII character, alone and in text, and for text
// encoding/json writes its own way (other characters, bad UTF-8).
func TestAppendRowErrorIsMarshalIndent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	texts := []string{"", "B", "Visit Start", `"03/04" is not a date`, `back\slash`, "<tag>&amp;", "tab\there", "line\nbreak\r",
		"Renée", "中文", "\u2028\u2029", "\xff\xfe bad", "=cmd", "x;y,z"}
	for c := range 0x80 {
		texts = append(texts, string(rune(c)), "a"+string(rune(c))+"b")
	}
	pick := func() string {
		if rng.IntN(4) == 0 {
			return texts[rng.IntN(len(texts))] + texts[rng.IntN(len(texts))]
		}
		return texts[rng.IntN(len(texts))]
	}
	for i := range 5000 {
		e := roster.RowError{Row: rng.IntN(2_000_000) - 5, Column: pick(), Field: pick(), Value: pick(), Code: pick(), Message: pick(), Hint: pick()}
		want, werr := json.MarshalIndent(&e, "    ", "  ")
		got, gerr := appendRowError([]byte("prefix"), &e)
		if werr != nil || gerr != nil {
			t.Fatalf("item %d: %v, %v", i, gerr, werr)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("item %d %+v:\n%s\nencoding/json:\n%s", i, e, got, want)
		}
	}
}
