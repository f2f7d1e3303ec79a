package roster

import (
	"errors"
	"testing"
	"time"
)

func TestParseWall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cell  Cell
		order DateOrder
		want  Wall
		code  string // expected problem code, "" for success
	}{
		{"iso date time", Cell{Text: "2027-01-11 08:00"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true}, ""},
		{"iso T", Cell{Text: "2027-01-11T08:30:15"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, Minute: 30, Second: 15, HasTime: true}, ""},
		{"iso Z", Cell{Text: "2027-01-11T08:00:00Z"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true, HasOffset: true}, ""},
		{"iso offset", Cell{Text: "2027-01-11T08:00+01:00"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true, HasOffset: true, Offset: 3600}, ""},
		{"iso negative offset compact", Cell{Text: "2027-01-11T08:00-0500"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true, HasOffset: true, Offset: -18000}, ""},
		{"iso fraction", Cell{Text: "2027-01-11T08:00:00.123Z"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true, HasOffset: true}, ""},
		{"date only", Cell{Text: "2027-01-11"}, 0, Wall{Year: 2027, Month: 1, Day: 11}, ""},
		{"slashes ymd", Cell{Text: "2027/1/11 8:00"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true}, ""},
		{"day first unambiguous", Cell{Text: "25/01/2027 14:00"}, 0, Wall{Year: 2027, Month: 1, Day: 25, Hour: 14, HasTime: true}, ""},
		{"month first unambiguous", Cell{Text: "01/25/2027 2:00 PM"}, 0, Wall{Year: 2027, Month: 1, Day: 25, Hour: 14, HasTime: true}, ""},
		{"ambiguous", Cell{Text: "03/04/2027"}, 0, Wall{}, CodeDateAmbiguous},
		{"ambiguous dmy", Cell{Text: "03/04/2027"}, DateOrderDMY, Wall{Year: 2027, Month: 4, Day: 3}, ""},
		{"ambiguous mdy", Cell{Text: "03/04/2027"}, DateOrderMDY, Wall{Year: 2027, Month: 3, Day: 4}, ""},
		{"same day and month", Cell{Text: "04/04/2027"}, 0, Wall{Year: 2027, Month: 4, Day: 4}, ""},
		{"dots are day first", Cell{Text: "03.04.2027 09:00"}, 0, Wall{Year: 2027, Month: 4, Day: 3, Hour: 9, HasTime: true}, ""},
		{"month name", Cell{Text: "11 Jan 2027 08:00"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true}, ""},
		{"month name dashes", Cell{Text: "11-January-2027"}, 0, Wall{Year: 2027, Month: 1, Day: 11}, ""},
		{"month first name", Cell{Text: "Mon January 11, 2027 8am"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true}, ""},
		{"12 am", Cell{Text: "2027-01-11 12:30 am"}, 0, Wall{Year: 2027, Month: 1, Day: 11, Minute: 30, HasTime: true}, ""},
		{"serial", Cell{Text: "46398.333333333336", Kind: KindDateSerial}, 0, Wall{Year: 2027, Month: 1, Day: 11, Hour: 8, HasTime: true}, ""},
		{"serial date only", Cell{Text: "46398", Kind: KindDateSerial}, 0, Wall{Year: 2027, Month: 1, Day: 11}, ""},
		{"serial rounding to next day", Cell{Text: "46398.99999999", Kind: KindDateSerial}, 0, Wall{Year: 2027, Month: 1, Day: 12, HasTime: true}, ""},
		{"serial too old", Cell{Text: "59", Kind: KindDateSerial}, 0, Wall{}, CodeDateInvalid},
		{"serial negative", Cell{Text: "-1", Kind: KindDateSerial}, 0, Wall{}, CodeDateInvalid},
		{"serial huge", Cell{Text: "1e300", Kind: KindDateSerial}, 0, Wall{}, CodeDateInvalid},
		{"empty", Cell{Text: "  "}, 0, Wall{}, CodeRequired},
		{"words", Cell{Text: "next tuesday"}, 0, Wall{}, CodeDateInvalid},
		{"31 february", Cell{Text: "2027-02-31"}, 0, Wall{}, CodeDateInvalid},
		{"29 february leap", Cell{Text: "2028-02-29"}, 0, Wall{Year: 2028, Month: 2, Day: 29}, ""},
		{"hour 24", Cell{Text: "2027-01-11 24:00"}, 0, Wall{}, CodeDateInvalid},
		{"trailing junk", Cell{Text: "2027-01-11 08:00 please"}, 0, Wall{}, CodeDateInvalid},
		{"two digit year", Cell{Text: "11/01/27"}, 0, Wall{}, CodeDateInvalid},
		{"offset without time", Cell{Text: "2027-01-11+01:00"}, 0, Wall{}, CodeDateInvalid},
		{"unicode", Cell{Text: "2027-01-11 08:00 ü"}, 0, Wall{}, CodeDateInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseWall(tt.cell, tt.order)
			if tt.code != "" {
				var p *dateProblem
				if !errors.As(err, &p) || p.Code != tt.code {
					t.Fatalf("ParseWall(%q) = %+v, %v; want problem %s", tt.cell.Text, got, err, tt.code)
				}
				if p.Hint == "" {
					t.Errorf("problem %q has no hint", p.Msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWall(%q): %v", tt.cell.Text, err)
			}
			if got != tt.want {
				t.Errorf("ParseWall(%q) = %+v, want %+v", tt.cell.Text, got, tt.want)
			}
		})
	}
}

func TestWallInDST(t *testing.T) {
	t.Parallel()
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		text string
		loc  *time.Location
		want string // UTC, or "" for the skipped hour
	}{
		{"winter", "2027-01-11 08:00", ams, "2027-01-11T07:00:00Z"},
		{"summer", "2027-07-11 08:00", ams, "2027-07-11T06:00:00Z"},
		{"spring forward gap", "2027-03-28 02:30", ams, ""},
		{"fall back first of two", "2027-10-31 02:30", ams, "2027-10-31T00:30:00Z"},
		{"new york gap", "2027-03-14 02:30", ny, ""},
		{"new york fall back", "2027-11-07 01:30", ny, "2027-11-07T05:30:00Z"},
		{"explicit offset wins", "2027-03-28T02:30+01:00", ams, "2027-03-28T01:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := ParseWall(Cell{Text: tt.text}, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := w.In(tt.loc)
			if tt.want == "" {
				var p *dateProblem
				if !errors.As(err, &p) || p.Code != CodeTimeNonexistent {
					t.Fatalf("In = %v, %v; want %s", got, err, CodeTimeNonexistent)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Format(time.RFC3339); s != tt.want {
				t.Errorf("In = %s, want %s", s, tt.want)
			}
		})
	}
}

func FuzzParseWall(f *testing.F) {
	for _, s := range []string{"2027-01-11 08:00", "03/04/2027", "11 Jan 2027 8am", "46398.5", "2027-01-11T08:00+01:00", "Mon January 11, 2027", "1e5", ""} {
		f.Add(s, uint8(0), false)
	}
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	f.Fuzz(func(t *testing.T, s string, order uint8, serial bool) {
		kind := KindText
		if serial {
			kind = KindDateSerial
		}
		w, err := ParseWall(Cell{Text: s, Kind: kind}, DateOrder(order%3))
		if err != nil {
			var p *dateProblem
			if !errors.As(err, &p) || p.Code == "" || p.Msg == "" {
				t.Fatalf("ParseWall(%q): error without code or message: %v", s, err)
			}
			return
		}
		if w.Month < 1 || w.Month > 12 || w.Day < 1 || w.Day > daysIn(w.Year, w.Month) || w.Hour > 23 || w.Minute > 59 || w.Second > 59 {
			t.Fatalf("ParseWall(%q) = %+v: not a real date", s, w)
		}
		if _, err := w.In(ams); err != nil {
			var p *dateProblem
			if !errors.As(err, &p) || p.Code != CodeTimeNonexistent {
				t.Fatalf("In: %v", err)
			}
		}
	})
}

// TestLocationLoadsOnce gives the same location for a zone every time, and
// refuses the names that would mean the machine's zone.
func TestLocationLoadsOnce(t *testing.T) {
	a, err := Location("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Location("Europe/Amsterdam")
	if err != nil || a != b {
		t.Fatalf("second load: %p, %v; first %p", b, err, a)
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus"} {
		if _, err := Location(bad); err == nil {
			t.Errorf("Location(%q) gave no error", bad)
		}
	}
}
