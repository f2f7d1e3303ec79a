package roster

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The checks' fast paths (a word at a time, tables, a single pass) must say
// exactly what the plain rules below say. These are the rules as first
// written, kept here as the reference.

func validNameRule(s string) bool {
	letter := false
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			switch b := byte(r); {
			case b >= 'a' && b <= 'z' || isUpper(b):
				letter = true
			case b == ' ', b == '-', b == '\'', b == '.':
			default:
				return false
			}
		case unicode.IsLetter(r):
			letter = true
		case unicode.Is(unicode.Mn, r), r == ' ', r == '-', r == '\'', r == '’', r == '.', r == '\u00a0':
		default:
			return false
		}
	}
	return letter
}

func hasControlRule(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' || b == 0x7f {
			return true
		} else if b >= utf8.RuneSelf {
			return strings.ContainsFunc(s[i:], unicode.IsControl)
		}
	}
	return false
}

func validEmailRule(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	dot := false
	for i := 0; i < len(local); i++ {
		b := local[i]
		if !emailLocalByte[b] || b == '.' && dot {
			return false
		}
		dot = b == '.'
	}
	labels, n, letters := 1, 0, true
	for i := 0; i < len(domain); i++ {
		switch b := domain[i]; {
		case b == '.':
			if n == 0 {
				return false
			}
			labels, n, letters = labels+1, 0, true
			continue
		case b >= 'a' && b <= 'z' || isUpper(b):
		case isDigit(b) || b == '-':
			letters = false
		default:
			return false
		}
		n++
	}
	return labels >= 2 && n >= 2 && letters
}

func plainASCIIRule(s string) bool {
	if s == "" {
		return true
	}
	if s[0] <= ' ' || s[len(s)-1] <= ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// checkFastPaths compares every fast path with its rule on s.
func checkFastPaths(t *testing.T, s string) {
	t.Helper()
	if got, want := validName(s), validNameRule(s); got != want {
		t.Errorf("validName(%q) = %v, want %v", s, got, want)
	}
	if got, want := hasControl(s), hasControlRule(s); got != want {
		t.Errorf("hasControl(%q) = %v, want %v", s, got, want)
	}
	if got, want := validEmail(s), validEmailRule(s); got != want {
		t.Errorf("validEmail(%q) = %v, want %v", s, got, want)
	}
	if got, want := plainASCII(s), plainASCIIRule(s); got != want {
		t.Errorf("plainASCII(%q) = %v, want %v", s, got, want)
	}
	if got, want := isASCII(s), plainASCIIRule("x"+s+"x"); got != want {
		t.Errorf("isASCII(%q) = %v, want %v", s, got, want)
	}
	if got, want := string(appendLower([]byte("x"), s)), "x"+strings.ToLower(s); got != want {
		t.Errorf("appendLower(%q) = %q, want %q", s, got, want)
	}
	if isASCII(s) {
		if got := cleanASCII(s); got != (&csvReader{utf8: true}).clean(s) {
			t.Errorf("cleanASCII(%q) = %q, want %q", s, got, (&csvReader{utf8: true}).clean(s))
		}
	}
}

var fastPathCases = []string{
	"", "a", "A", "Anna", "de Vries", "O'Connor", "Jean-Luc", "St. John", "Zoë", "ZOË", "Müller", "D4vid",
	"x@y", "anna.devries@acme.example", "a@b.co", "a@b.c", "a@b.c0", ".a@b.co", "a.@b.co", "a..b@c.co",
	"a@b..co", "a@.b.co", "a@b.co.", "@b.co", "a@", "a@b@c.co", "a b@c.co", "a@b-c.co", "a@b_c.co", "a@b.c-o",
	"Anna\u00a0Smith", "Anna’s", "José", "Jose\u0301", "日本", "Ǆemal", "İlker", "Straße", "ΣΊΣΥΦΟΣ",
	"\xff", "a\xffb", "\xe2\x80", "Acme\tPower", "Acme\x7f", "Acme\x00", "Acme\u0085Power", "Acme\u200bPower",
	"Long company name with no control characters at all", "Twelve chars", "exactly8", "exactly8exactly8",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ@[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", " lead", "trail ", "\ttab", "\n",
	"MIXED case WITH more THAN eight BYTES", "ÀÉÎÕÜ ÀÉÎÕÜ ÀÉÎÕÜ", "abcdefg\xc3\x84", "abcdefgh\x7f", "abcdefghijklmno\x1f",
}

func TestFastPathsMatchRules(t *testing.T) {
	t.Parallel()
	for _, s := range fastPathCases {
		checkFastPaths(t, s)
	}
	// Every byte at every place in a word, and the words around it.
	for b := range 256 {
		for i := range 17 {
			checkFastPaths(t, strings.Repeat("a", i)+string([]byte{byte(b)})+strings.Repeat("B", 16-i))
			checkFastPaths(t, "anna.b@"+strings.Repeat("c", i)+string([]byte{byte(b)})+".co")
		}
	}
	// Random strings over the bytes and runes the rules treat apart.
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"a", "Z", "0", " ", "-", "'", ".", "@", "\t", "\x00", "\x7f", "\xff", "é", "É", "’", "\u00a0", "\u0301", "\u0085", "日", "İ", "ß", "_", "+", "\""}
	for range 100000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		checkFastPaths(t, b.String())
	}
}

func FuzzFastPaths(f *testing.F) {
	for _, s := range fastPathCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFastPaths(t, s) })
}

// TestVisitorSetMatchesMap runs the duplicate check's set against a plain
// map: windows interleaved, small and larger than placeScan.
func TestVisitorSetMatchesMap(t *testing.T) {
	t.Parallel()
	type key struct {
		pw  placeWindow
		who uint64
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		var s visitorSet
		want := map[key]int32{}
		pw := placeWindow{}
		for row := int32(2); row < 20000; row++ {
			if rng.IntN(6) == 0 {
				// A new window, or one seen before.
				pw = placeWindow{place: int32(rng.IntN(3 + round)), start: rng.Int64N(4), end: 10 + rng.Int64N(3)}
			}
			who := rng.Uint64N(uint64(5 + 10*round))
			first, dup := s.add(pw, who, row)
			w, seen := want[key{pw, who}]
			if !seen {
				want[key{pw, who}] = row
			}
			if dup != seen || dup && first != w {
				t.Fatalf("round %d row %d: add(%v, %d) = %d, %v; want %d, %v", round, row, pw, who, first, dup, w, seen)
			}
		}
	}
}

// checkISOWall compares parseISOWall with parseWall on s.
func checkISOWall(t *testing.T, s string) {
	t.Helper()
	w, ok := parseISOWall(Cell{Text: s})
	for order := range DateOrder(3) {
		want, p := parseWall(Cell{Text: s}, order, false)
		if ok && (p != nil || w != want) {
			t.Fatalf("parseISOWall(%q) = %+v; parseWall (%v) = %+v, %v", s, w, order, want, p)
		}
	}
	if _, ok := parseISOWall(Cell{Text: s, Kind: KindDateSerial}); ok {
		t.Fatalf("parseISOWall read a date serial %q", s)
	}
}

func TestISOWallMatchesParseWall(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2027-01-11", "2027-01-11 08:00", "2027-01-11T08:00", "2027-01-11T08:00:59",
		"2027-02-29", "2028-02-29", "1899-12-31", "1900-01-01", "9999-12-31 23:59:59", "2027-13-01", "2027-00-10",
		"2027-01-00", "2027-01-32", "2027-04-31", "2027-01-11 24:00", "2027-01-11 23:60", "2027-01-11 08:00:60",
		"2027-01-11t08:00", "2027-01-11_08:00", "2027/01/11 08:00", "2027-01-11 08-00", "2027-01-11 08:00-00",
		"+027-01-11", "2027-0a-11", " 027-01-11", "2027-01-11 8:00", "2027-01-11 08:0x"} {
		checkISOWall(t, s)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	digit := func() byte { return "0123456789"[rng.IntN(10)] }
	for range 200000 {
		b := []byte("2027-01-11T08:00:00")
		for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
			if rng.IntN(3) == 0 {
				b[i] = digit()
			}
		}
		b[10] = " T t"[rng.IntN(4)]
		if rng.IntN(20) == 0 {
			b[rng.IntN(len(b))] = "-:/. 9aZ"[rng.IntN(8)]
		}
		checkISOWall(t, string(b[:[]int{10, 16, 19, rng.IntN(20)}[rng.IntN(4)]]))
	}
}

func FuzzISOWall(f *testing.F) {
	for _, s := range []string{"2027-01-11", "2027-01-11 08:00", "2027-01-11T08:00:00", "2027-02-30 08:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkISOWall(t, s) })
}

// TestWallInCache: the Checker's cache of wall times gives what Wall.In
// gives, zones and times mixed so that entries are replaced.
func TestWallInCache(t *testing.T) {
	t.Parallel()
	c := NewChecker(fullHeader(), CheckConfig{})
	var locs []*time.Location
	for _, z := range []string{"Europe/Amsterdam", "America/New_York", "Asia/Tokyo", "UTC"} {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, loc)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	nonexistent := 0
	for range 50000 {
		// About 4,000 walls and zones, so that the cache both finds
		// entries and replaces them; among them the hours that clocks
		// skip and repeat.
		w := Wall{Year: 2027, Month: []int{3, 10, 11}[rng.IntN(3)], Day: []int{1, 7, 14, 28, 31}[rng.IntN(5)],
			HasTime: rng.IntN(2) == 0, Hour: rng.IntN(24), Minute: 30 * rng.IntN(2)}
		loc := locs[rng.IntN(len(locs))]
		got := c.wallIn(w, loc)
		want, err := w.In(loc)
		if err != nil {
			nonexistent++
			if got.prob == nil || got.prob.Msg != err.Error() {
				t.Fatalf("%+v in %s: %+v, want %v", w, loc, got, err)
			}
			continue
		}
		if got.prob != nil || !got.t.Equal(want) || got.t.Location() != want.Location() {
			t.Fatalf("%+v in %s: %+v, want %v", w, loc, got, want)
		}
	}
	if nonexistent == 0 {
		t.Error("no wall time was a skipped one")
	}
}

// TestVisitorHashFoldsCase: two visitors hash alike exactly when their
// names and company (or usernames), lower-cased, are the same.
func TestVisitorHashFoldsCase(t *testing.T) {
	t.Parallel()
	c := NewChecker(fullHeader(), CheckConfig{})
	names := []string{"Anna", "ANNA", "anna", "Zoë", "ZOË", "zoë", "İlker", "i̇lker", "Straße", "STRASSE", "ǅemal", "Ǆemal",
		"de Vries", "De Vries", "a\xffb", "A\xffB", "a\uFFFDb", "", strings.Repeat("Long Name ", 30)}
	type key struct{ user, first, last, company string }
	lower := func(v Visitor) key {
		if v.Username != "" {
			return key{user: strings.ToLower(v.Username)}
		}
		return key{"", strings.ToLower(v.FirstName), strings.ToLower(v.LastName), strings.ToLower(v.Company)}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	pick := func() string { return names[rng.IntN(len(names))] }
	var vs []Visitor
	for range 400 {
		v := Visitor{FirstName: pick(), LastName: pick(), Company: pick()}
		if rng.IntN(4) == 0 {
			v = Visitor{Username: pick() + "x"}
		}
		vs = append(vs, v)
	}
	for _, a := range vs {
		for _, b := range vs {
			if same := lower(a) == lower(b); (c.visitorHash(&a) == c.visitorHash(&b)) != same {
				t.Fatalf("visitorHash(%+v) == visitorHash(%+v) is %v, want %v", a, b, !same, same)
			}
		}
	}
}

// TestZeroBytes: zeroBytes marks exactly the zero bytes of a word, whatever
// their neighbours (a borrow must not mark the byte above a zero).
func TestZeroBytes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for range 200000 {
		w := rng.Uint64()
		for i := range 8 {
			switch rng.IntN(3) {
			case 0:
				w &^= 0xff << (8 * i)
			case 1:
				w = w&^(0xff<<(8*i)) | uint64(rng.IntN(3))<<(8*i)
			}
		}
		var want uint64
		for i := range 8 {
			if byte(w>>(8*i)) == 0 {
				want |= 0x80 << (8 * i)
			}
		}
		if got := zeroBytes(w); got != want {
			t.Fatalf("zeroBytes(%#016x) = %#016x, want %#016x", w, got, want)
		}
	}
}
