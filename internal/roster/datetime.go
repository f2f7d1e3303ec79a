package roster

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DateOrder says how to read a numeric date such as 03/04/2026, whose day and
// month could be either way round.
type DateOrder uint8

const (
	// DateOrderAuto accepts only dates that cannot be read two ways.
	DateOrderAuto DateOrder = iota
	// DateOrderDMY reads 03/04/2026 as 3 April 2026.
	DateOrderDMY
	// DateOrderMDY reads 03/04/2026 as March 4, 2026.
	DateOrderMDY
)

// ParseDateOrder reads "dmy", "mdy" or "" (auto).
func ParseDateOrder(s string) (DateOrder, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return DateOrderAuto, nil
	case "dmy":
		return DateOrderDMY, nil
	case "mdy":
		return DateOrderMDY, nil
	}
	return DateOrderAuto, fmt.Errorf("date order %q: want dmy or mdy", s)
}

// String returns the flag value for the order.
func (o DateOrder) String() string {
	switch o {
	case DateOrderDMY:
		return "dmy"
	case DateOrderMDY:
		return "mdy"
	}
	return "auto"
}

// Wall is a date and time as written in a roster cell: a wall-clock time,
// with a UTC offset only when the cell carried one.
type Wall struct {
	Year, Month, Day     int
	Hour, Minute, Second int
	HasTime              bool // the cell gave a time of day
	HasOffset            bool // the cell gave a UTC offset (or Z)
	Offset               int  // seconds east of UTC, when HasOffset
}

// dateProblem is why a date cell could not be read; Code is a row error code.
type dateProblem struct {
	Code, Msg, Hint string
}

func (p *dateProblem) Error() string { return p.Msg }

const dateHint = "write it as 2027-01-11 08:00 (year-month-day, 24-hour time) or use a date-formatted cell"

func badDate(msg string) *dateProblem {
	return &dateProblem{Code: CodeDateInvalid, Msg: msg, Hint: dateHint}
}

// ParseWall reads a date cell: an Excel serial from a date-formatted cell,
// ISO 8601 text, or other text formats where they are unambiguous under order.
func ParseWall(c Cell, order DateOrder) (Wall, error) {
	w, p := parseWall(c, order, false)
	if p != nil {
		return Wall{}, p
	}
	return w, nil
}

// parseWall is ParseWall; date1904 says serials count from 1904-01-01.
func parseWall(c Cell, order DateOrder, date1904 bool) (Wall, *dateProblem) {
	s := strings.TrimSpace(c.Text)
	if s == "" {
		return Wall{}, &dateProblem{Code: CodeRequired, Msg: "date is empty", Hint: dateHint}
	}
	if c.Kind == KindDateSerial || isNumber(s) {
		return parseSerial(s, date1904)
	}
	return parseText(s, order)
}

// parseISOWall reads the ISO 8601 text most rosters have, 2027-01-11,
// 2027-01-11 08:00 or 2027-01-11T08:00:00, exactly as parseWall does. It
// reports false for anything else, and for a date or time out of range:
// parseWall then says what is wrong.
func parseISOWall(c Cell) (Wall, bool) {
	s := c.Text
	if c.Kind != KindText || (len(s) != 10 && len(s) != 16 && len(s) != 19) ||
		s[4] != '-' || s[7] != '-' {
		return Wall{}, false
	}
	w := Wall{Year: digits4(s[0:4]), Month: digits2(s[5:7]), Day: digits2(s[8:10])}
	if len(s) > 10 {
		if s[10] != ' ' && s[10] != 'T' || s[13] != ':' {
			return Wall{}, false
		}
		w.HasTime, w.Hour, w.Minute = true, digits2(s[11:13]), digits2(s[14:16])
		if len(s) == 19 {
			if s[16] != ':' {
				return Wall{}, false
			}
			w.Second = digits2(s[17:19])
		}
	}
	// digits2 and digits4 give -1 for anything but digits.
	if w.Year < 1900 || w.Month < 1 || w.Month > 12 || w.Day < 1 || w.Day > daysIn(w.Year, w.Month) ||
		w.Hour < 0 || w.Hour > 23 || w.Minute < 0 || w.Minute > 59 || w.Second < 0 || w.Second > 59 {
		return Wall{}, false
	}
	return w, true
}

// digits2 reads two decimal digits, or returns -1.
func digits2(s string) int {
	a, b := int(s[0])-'0', int(s[1])-'0'
	if uint(a) > 9 || uint(b) > 9 {
		return -1
	}
	return a*10 + b
}

// digits4 reads four decimal digits, or returns -1.
func digits4(s string) int {
	a, b := digits2(s[0:2]), digits2(s[2:4])
	if a < 0 || b < 0 {
		return -1
	}
	return a*100 + b
}

// packWall packs a wall time without an offset into a nonzero number that
// tells it apart from any other.
func packWall(w Wall) uint64 {
	k := uint64(w.Year)<<26 | uint64(w.Month)<<22 | uint64(w.Day)<<17 | uint64(w.Hour)<<12 |
		uint64(w.Minute)<<6 | uint64(w.Second)
	k = k<<1 | 1
	if w.HasTime {
		k |= 1 << 63
	}
	return k
}

func isNumber(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
		case s[i] == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s != ""
}

// maxSerial is 9999-12-31, the last date Excel can show.
const maxSerial = 2958465

// parseSerial reads an Excel serial date: days since 1899-12-30 (or, in
// the 1904 date system, since 1904-01-01), with the fraction the time of day.
func parseSerial(s string, date1904 bool) (Wall, *dateProblem) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f >= maxSerial+1 {
		return Wall{}, badDate(fmt.Sprintf("%q is not a date", s))
	}
	days := math.Floor(f)
	secs := math.Round((f - days) * 86400)
	if secs >= 86400 {
		days++
		secs -= 86400
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if days < 61 {
		// Excel's serials 1..59 count from 1900-01-01 and 60 is the
		// 29 February 1900 that never was; no visit is that old.
		return Wall{}, badDate(fmt.Sprintf("%s is not a date in this century", s))
	}
	t := epoch.Add(time.Duration(secs)*time.Second).AddDate(0, 0, int(days))
	return Wall{
		Year: t.Year(), Month: int(t.Month()), Day: t.Day(),
		Hour: t.Hour(), Minute: t.Minute(), Second: t.Second(),
		HasTime: secs != 0 || f != days,
	}, nil
}

// token is a piece of date text: a run of digits, a run of letters, or one
// punctuation character.
type token struct {
	s    string
	kind byte // 'n' number, 'a' letters, else the punctuation byte itself
}

const maxTokens = 24

func tokenize(s string, out *[maxTokens]token) (int, bool) {
	n := 0
	for i := 0; i < len(s); {
		if n == maxTokens {
			return n, false
		}
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			out[n] = token{s[i:j], 'n'}
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			out[n] = token{s[i:j], 'a'}
		case c == ' ' || c == '\t' || c == ',':
			i++
			continue
		default:
			if c >= 0x80 {
				return n, false
			}
			out[n] = token{s[i : i+1], c}
		}
		i += len(out[n].s)
		n++
	}
	return n, true
}

var monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func monthWord(s string) int {
	if len(s) < 3 {
		return 0
	}
	l := strings.ToLower(s)
	for i, m := range monthNames {
		if strings.HasPrefix(l, m) {
			full := strings.ToLower(time.Month(i + 1).String())
			if strings.HasPrefix(full, l) || l == "sept" {
				return i + 1
			}
		}
	}
	return 0
}

func isWeekday(s string) bool {
	l := strings.ToLower(s)
	if len(l) < 3 {
		return false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.HasPrefix(strings.ToLower(d.String()), l) {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 9; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func parseText(s string, order DateOrder) (Wall, *dateProblem) {
	var toks [maxTokens]token
	n, ok := tokenize(s, &toks)
	if !ok {
		return Wall{}, badDate(fmt.Sprintf("%q is not a date", s))
	}
	t := toks[:n]
	if len(t) > 0 && t[0].kind == 'a' && isWeekday(t[0].s) && monthWord(t[0].s) == 0 {
		t = t[1:]
	}
	var w Wall
	rest, p := parseDatePart(t, order, &w, s)
	if p != nil {
		return Wall{}, p
	}
	if err := checkDate(&w, s); err != nil {
		return Wall{}, err
	}
	if len(rest) > 0 && rest[0].kind == 'a' && strings.EqualFold(rest[0].s, "T") {
		rest = rest[1:]
	} else if len(rest) > 0 && rest[0].kind == 'a' && len(rest[0].s) > 1 && (rest[0].s[0] == 'T' || rest[0].s[0] == 't') {
		return Wall{}, badDate(fmt.Sprintf("%q is not a date", s))
	}
	rest, p = parseTimePart(rest, &w, s)
	if p != nil {
		return Wall{}, p
	}
	rest, p = parseOffset(rest, &w, s)
	if p != nil {
		return Wall{}, p
	}
	if len(rest) != 0 {
		return Wall{}, badDate(fmt.Sprintf("%q: cannot read %q", s, rest[0].s))
	}
	return w, nil
}

// dayMonthOrder tells the only order a date such as 25/04/2027 (day first)
// or 04/25/2027 (month first) can be read in, and auto for any other cell.
func dayMonthOrder(c Cell) DateOrder {
	if c.Kind != KindText {
		return DateOrderAuto
	}
	s := strings.TrimSpace(c.Text)
	num := func(i int) (int, int) {
		n, j := 0, i
		for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '9' {
			n = n*10 + int(s[j]-'0')
			j++
		}
		return n, j
	}
	a, i := num(0)
	if i == 0 || i >= len(s) || s[i] != '/' && s[i] != '-' {
		return DateOrderAuto
	}
	sepc := s[i]
	b, j := num(i + 1)
	if j == i+1 || j+4 > len(s) || s[j] != sepc {
		return DateOrderAuto
	}
	for k := j + 1; k < j+5; k++ {
		if s[k] < '0' || s[k] > '9' {
			return DateOrderAuto
		}
	}
	switch {
	case a > 12 && a <= 31 && b >= 1 && b <= 12:
		return DateOrderDMY
	case b > 12 && b <= 31 && a >= 1 && a <= 12:
		return DateOrderMDY
	}
	return DateOrderAuto
}

func sep(t token) bool { return t.kind == '-' || t.kind == '/' || t.kind == '.' }

func parseDatePart(t []token, order DateOrder, w *Wall, s string) ([]token, *dateProblem) {
	bad := func() *dateProblem { return badDate(fmt.Sprintf("%q is not a date", s)) }
	switch {
	case len(t) >= 5 && t[0].kind == 'n' && len(t[0].s) == 4 && sep(t[1]) && t[2].kind == 'n' && t[3].kind == t[1].kind && t[4].kind == 'n':
		// 2027-01-11, 2027/01/11, 2027.01.11
		if len(t[2].s) > 2 || len(t[4].s) > 2 {
			return nil, bad()
		}
		w.Year, w.Month, w.Day = atoi(t[0].s), atoi(t[2].s), atoi(t[4].s)
		return t[5:], nil
	case len(t) >= 5 && t[0].kind == 'n' && sep(t[1]) && t[2].kind == 'n' && t[3].kind == t[1].kind && t[4].kind == 'n' && len(t[4].s) == 4:
		// 11/01/2027, 11-01-2027, 11.01.2027
		if len(t[0].s) > 2 || len(t[2].s) > 2 {
			return nil, bad()
		}
		a, b := atoi(t[0].s), atoi(t[2].s)
		w.Year = atoi(t[4].s)
		switch {
		case a == b:
			w.Month, w.Day = a, b
		case t[1].kind == '.' || order == DateOrderDMY:
			w.Day, w.Month = a, b
		case order == DateOrderMDY:
			w.Month, w.Day = a, b
		case a > 12 && b <= 12:
			w.Day, w.Month = a, b
		case b > 12 && a <= 12:
			w.Month, w.Day = a, b
		default:
			return nil, &dateProblem{
				Code: CodeDateAmbiguous,
				Msg:  fmt.Sprintf("%q could be %d %s or %s %d", s, a, shortMonth(b), shortMonth(a), b),
				Hint: "write the date as year-month-day (2027-01-11), or run with --date-order dmy (or mdy)",
			}
		}
		return t[5:], nil
	case len(t) >= 3 && t[0].kind == 'n' && len(t[0].s) <= 2:
		// 11 Jan 2027, 11-Jan-2027
		i := 1
		if sep(t[i]) {
			i++
		}
		if i+1 >= len(t)+1 || t[i].kind != 'a' {
			return nil, bad()
		}
		m := monthWord(t[i].s)
		if m == 0 {
			return nil, bad()
		}
		i++
		if i < len(t) && sep(t[i]) {
			i++
		}
		if i >= len(t) || t[i].kind != 'n' || len(t[i].s) != 4 {
			return nil, bad()
		}
		w.Day, w.Month, w.Year = atoi(t[0].s), m, atoi(t[i].s)
		return t[i+1:], nil
	case len(t) >= 3 && t[0].kind == 'a' && monthWord(t[0].s) != 0 && t[1].kind == 'n' && len(t[1].s) <= 2:
		// Jan 11 2027, January 11, 2027
		i := 2
		if t[i].kind == 'a' && isOrdinal(t[i].s) {
			i++
		}
		if i >= len(t) || t[i].kind != 'n' || len(t[i].s) != 4 {
			return nil, bad()
		}
		w.Month, w.Day, w.Year = monthWord(t[0].s), atoi(t[1].s), atoi(t[i].s)
		return t[i+1:], nil
	}
	return nil, bad()
}

func isOrdinal(s string) bool {
	switch strings.ToLower(s) {
	case "st", "nd", "rd", "th":
		return true
	}
	return false
}

func shortMonth(m int) string {
	if m < 1 || m > 12 {
		return strconv.Itoa(m)
	}
	return time.Month(m).String()[:3]
}

func checkDate(w *Wall, s string) *dateProblem {
	if w.Month < 1 || w.Month > 12 || w.Day < 1 || w.Day > 31 || w.Year < 1900 || w.Year > 9999 {
		return badDate(fmt.Sprintf("%q is not a date", s))
	}
	if w.Day > daysIn(w.Year, w.Month) {
		return badDate(fmt.Sprintf("%q: %s %d has %d days", s, time.Month(w.Month), w.Year, daysIn(w.Year, w.Month)))
	}
	return nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func parseTimePart(t []token, w *Wall, s string) ([]token, *dateProblem) {
	if len(t) == 0 || t[0].kind != 'n' {
		return t, nil
	}
	bad := func() *dateProblem { return badDate(fmt.Sprintf("%q: the time is not a time of day", s)) }
	if len(t[0].s) > 2 {
		return nil, bad()
	}
	w.HasTime = true
	w.Hour = atoi(t[0].s)
	i := 1
	if i+1 < len(t) && t[i].kind == ':' && t[i+1].kind == 'n' && len(t[i+1].s) == 2 {
		w.Minute = atoi(t[i+1].s)
		i += 2
		if i+1 < len(t) && t[i].kind == ':' && t[i+1].kind == 'n' && len(t[i+1].s) == 2 {
			w.Second = atoi(t[i+1].s)
			i += 2
			if i+1 < len(t) && (t[i].kind == '.' || t[i].kind == ',') && t[i+1].kind == 'n' {
				i += 2 // fractions of a second are dropped
			}
		}
	} else if i >= len(t) || t[i].kind != 'a' {
		return nil, bad()
	}
	if i < len(t) && t[i].kind == 'a' {
		switch strings.ToLower(t[i].s) {
		case "am", "pm":
			if w.Hour < 1 || w.Hour > 12 {
				return nil, bad()
			}
			if w.Hour == 12 {
				w.Hour = 0
			}
			if strings.EqualFold(t[i].s, "pm") {
				w.Hour += 12
			}
			i++
		}
	}
	if w.Hour > 23 || w.Minute > 59 || w.Second > 59 {
		return nil, bad()
	}
	return t[i:], nil
}

func parseOffset(t []token, w *Wall, s string) ([]token, *dateProblem) {
	if len(t) == 0 {
		return t, nil
	}
	bad := func() *dateProblem {
		return badDate(fmt.Sprintf("%q: the UTC offset is not readable (want Z or +01:00)", s))
	}
	i := 0
	if t[0].kind == 'a' {
		switch strings.ToUpper(t[0].s) {
		case "Z", "UTC", "GMT":
			w.HasOffset = true
			i = 1
		default:
			return t, nil
		}
		if i == len(t) {
			return nil, nil
		}
	}
	if t[i].kind != '+' && t[i].kind != '-' {
		if w.HasOffset {
			return t[i:], nil
		}
		return t, nil
	}
	if !w.HasTime {
		return nil, bad()
	}
	sign := 1
	if t[i].kind == '-' {
		sign = -1
	}
	i++
	if i >= len(t) || t[i].kind != 'n' {
		return nil, bad()
	}
	var h, m int
	switch len(t[i].s) {
	case 1, 2:
		h = atoi(t[i].s)
		i++
		if i+1 < len(t) && t[i].kind == ':' && t[i+1].kind == 'n' && len(t[i+1].s) == 2 {
			m = atoi(t[i+1].s)
			i += 2
		}
	case 4:
		h, m = atoi(t[i].s[:2]), atoi(t[i].s[2:])
		i++
	default:
		return nil, bad()
	}
	if h > 14 || m > 59 {
		return nil, bad()
	}
	w.HasOffset = true
	w.Offset = sign * (h*3600 + m*60)
	return t[i:], nil
}

// In returns the instant w names, reading it in loc unless w carries its own
// offset. A wall time that does not exist in loc (the hour skipped when
// clocks go forward) is an error; a wall time that happens twice (the hour
// repeated when clocks go back) is the first of the two.
func (w Wall) In(loc *time.Location) (time.Time, error) {
	if w.HasOffset {
		return time.Date(w.Year, time.Month(w.Month), w.Day, w.Hour, w.Minute, w.Second, 0, time.UTC).
			Add(-time.Duration(w.Offset) * time.Second), nil
	}
	t := time.Date(w.Year, time.Month(w.Month), w.Day, w.Hour, w.Minute, w.Second, 0, loc)
	if t.Hour() != w.Hour || t.Minute() != w.Minute || t.Day() != w.Day {
		return time.Time{}, &dateProblem{
			Code: CodeTimeNonexistent,
			Msg: fmt.Sprintf("%04d-%02d-%02d %02d:%02d does not exist in %s: the clocks go forward then",
				w.Year, w.Month, w.Day, w.Hour, w.Minute, loc),
			Hint: "choose a time outside the skipped hour, e.g. one hour later",
		}
	}
	// Of two instants with this wall time, take the earlier.
	if e := t.Add(-time.Hour); e.Hour() == w.Hour && e.Minute() == w.Minute && e.Day() == w.Day {
		t = e
	}
	return t.UTC(), nil
}
