package roster

import (
	"strings"
	"testing"
	"time"
)

// fullHeader has every visitor column, in Field order.
func fullHeader() *Header {
	h := &Header{Path: "r.xlsx", Sheet: "Visitors", Row: 1}
	for f := range NumFields {
		h.Index[f] = int(f)
		h.Columns = append(h.Columns, f.String())
	}
	return h
}

var checkNow = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// goodRow is a valid visitor row; tests change one field at a time.
func goodRow() map[Field]string {
	return map[Field]string{
		FieldIBX: "AM1", FieldCage: "AM1:01:000111", FieldCabinet: "0101", FieldAccount: "100001",
		FieldStart: "2027-01-11 08:00", FieldEnd: "2027-01-12 18:00",
		FieldFirstName: "Anna", FieldLastName: "de Vries", FieldCompany: "Acme Power",
		FieldEmail: "anna.devries@acme.example", FieldMobileCountryCode: "+31", FieldMobilePhone: "612 345 678",
		FieldOpenCabinet: "N",
	}
}

func record(row int, m map[Field]string) *Record {
	r := &Record{Row: row}
	for f, v := range m {
		r.Cells[f] = Cell{Text: v}
	}
	return r
}

func TestCheckValid(t *testing.T) {
	t.Parallel()
	c := NewChecker(fullHeader(), CheckConfig{Now: func() time.Time { return checkNow }})
	var v Visitor
	errs := c.Check(record(2, goodRow()), &v, nil)
	if len(errs) != 0 {
		t.Fatalf("errors on a good row: %v", errs)
	}
	want := Visitor{
		Row: 2, IBX: "AM1", Cage: "AM1:01:000111", Cabinet: "AM1:01:000111:0101", Account: "100001",
		Start: time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 12, 17, 0, 0, 0, time.UTC),
		Zone: "Europe/Amsterdam", FirstName: "Anna", LastName: "de Vries", Company: "Acme Power",
		Email: "anna.devries@acme.example", MobileCountryCode: "+31", MobilePhone: "612 345 678",
	}
	if v != want {
		t.Errorf("visitor\n got %+v\nwant %+v", v, want)
	}
}

func TestCheckRowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change map[Field]string
		code   string
		column string
	}{
		{"no name no username", map[Field]string{FieldFirstName: "", FieldLastName: "", FieldCompany: ""}, CodeNameOrUsername, "H"},
		{"first name missing", map[Field]string{FieldFirstName: ""}, CodeRequired, "H"},
		{"company missing", map[Field]string{FieldCompany: ""}, CodeRequired, "J"},
		{"name with digits", map[Field]string{FieldLastName: "Vries2"}, CodeNameInvalid, "I"},
		{"name too long", map[Field]string{FieldFirstName: strings.Repeat("a", 101)}, CodeTooLong, "H"},
		{"username too short", map[Field]string{FieldUsername: "jdoe"}, CodeUsernameInvalid, "K"},
		{"username with space", map[Field]string{FieldUsername: "john doe1"}, CodeUsernameInvalid, "K"},
		{"username with quote", map[Field]string{FieldUsername: "john'doe1"}, CodeUsernameInvalid, "K"},
		{"email", map[Field]string{FieldEmail: "anna at acme"}, CodeEmailInvalid, "L"},
		{"email two addresses", map[Field]string{FieldEmail: "a@acme.example; b@acme.example"}, CodeEmailInvalid, "L"},
		{"email too long", map[Field]string{FieldEmail: strings.Repeat("a", 95) + "@x.example"}, CodeEmailInvalid, "L"},
		{"country code", map[Field]string{FieldMobileCountryCode: "+31a"}, CodeCountryCodeInvalid, "M"},
		{"country code too long", map[Field]string{FieldMobileCountryCode: "+1234567"}, CodeCountryCodeInvalid, "M"},
		{"phone letters", map[Field]string{FieldMobilePhone: "call me"}, CodePhoneInvalid, "N"},
		{"phone plus inside", map[Field]string{FieldMobilePhone: "+31 612345678"}, CodePhoneInvalid, "N"},
		{"phone without code", map[Field]string{FieldMobileCountryCode: ""}, CodeCountryCodeMissing, "M"},
		{"ibx", map[Field]string{FieldIBX: "Amsterdam"}, CodeIBXInvalid, "A"},
		{"cage format", map[Field]string{FieldCage: "cage 111"}, CodeCageInvalid, "B"},
		{"cage missing", map[Field]string{FieldCage: ""}, CodeRequired, "B"},
		{"cage in other ibx", map[Field]string{FieldIBX: "DC2"}, CodeCageNotInIBX, "B"},
		{"cabinet in other cage", map[Field]string{FieldCabinet: "AM1:01:000112:0101"}, CodeCabinetNotInCage, "C"},
		{"cabinet format", map[Field]string{FieldCabinet: "rack #4"}, CodeCabinetInvalid, "C"},
		{"account", map[Field]string{FieldAccount: "ACME-1"}, CodeAccountInvalid, "D"},
		{"start unreadable", map[Field]string{FieldStart: "soon"}, CodeDateInvalid, "E"},
		{"start ambiguous", map[Field]string{FieldStart: "03/04/2027 08:00"}, CodeDateAmbiguous, "E"},
		{"start missing", map[Field]string{FieldStart: ""}, CodeRequired, "E"},
		{"end before start", map[Field]string{FieldEnd: "2027-01-10 08:00"}, CodeEndBeforeStart, "F"},
		{"start in past", map[Field]string{FieldStart: "2026-12-01 08:00"}, CodeStartInPast, "E"},
		{"skipped hour", map[Field]string{FieldStart: "2027-03-28 02:30", FieldEnd: "2027-03-28 18:00"}, CodeTimeNonexistent, "E"},
		{"unknown zone", map[Field]string{FieldTimeZone: "Mars/Olympus"}, CodeZoneUnknown, "G"},
		{"unknown metro", map[Field]string{FieldIBX: "QQ1", FieldCage: "QQ1:01:000111", FieldCabinet: ""}, CodeMetroUnknown, "A"},
		{"open cabinet", map[Field]string{FieldOpenCabinet: "maybe"}, CodeOpenCabinetInvalid, "O"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewChecker(fullHeader(), CheckConfig{Now: func() time.Time { return checkNow }})
			row := goodRow()
			for f, v := range tt.change {
				row[f] = v
			}
			var v Visitor
			errs := c.Check(record(7, row), &v, nil)
			var found *RowError
			for i := range errs {
				if errs[i].Code == tt.code {
					found = &errs[i]
				}
			}
			if found == nil {
				t.Fatalf("want %s, got %v", tt.code, errs)
			}
			if found.Row != 7 || found.Column != tt.column || found.Message == "" || found.Hint == "" {
				t.Errorf("error %+v: want row 7, column %s, a message and a hint", *found, tt.column)
			}
		})
	}
}

func TestCheckAccepted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change map[Field]string
		check  func(Visitor) bool
	}{
		{"ibx derived from cage", map[Field]string{FieldIBX: ""}, func(v Visitor) bool { return v.IBX == "AM1" }},
		{"country code without plus", map[Field]string{FieldMobileCountryCode: "31"}, func(v Visitor) bool { return v.MobileCountryCode == "+31" }},
		{"full cabinet id", map[Field]string{FieldCabinet: "AM1:01:000111:0102"}, func(v Visitor) bool { return v.Cabinet == "AM1:01:000111:0102" }},
		{"lower case cage", map[Field]string{FieldCage: "am1:01:000111"}, func(v Visitor) bool { return v.Cage == "AM1:01:000111" }},
		{"username instead of name", map[Field]string{FieldUsername: "jane.visitor", FieldFirstName: "", FieldLastName: "", FieldCompany: ""},
			func(v Visitor) bool { return v.Username == "jane.visitor" }},
		{"open cabinet yes", map[Field]string{FieldOpenCabinet: "yes"}, func(v Visitor) bool { return v.OpenCabinet }},
		{"phone extension", map[Field]string{FieldMobilePhone: "(020) 555-0101 ext 12"}, func(v Visitor) bool { return v.MobilePhone != "" }},
		{"accented name", map[Field]string{FieldLastName: "Müller-Lüdenscheidt", FieldFirstName: "José María"}, func(v Visitor) bool { return true }},
		{"time zone column", map[Field]string{FieldTimeZone: "America/New_York"},
			func(v Visitor) bool { return v.Start.Equal(time.Date(2027, 1, 11, 13, 0, 0, 0, time.UTC)) }},
		{"date only end is end of day", map[Field]string{FieldEnd: "2027-01-12"},
			func(v Visitor) bool { return v.End.Equal(time.Date(2027, 1, 12, 22, 59, 0, 0, time.UTC)) }},
		{"offset in cell", map[Field]string{FieldStart: "2027-01-11T08:00:00Z"},
			func(v Visitor) bool { return v.Start.Equal(time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewChecker(fullHeader(), CheckConfig{Now: func() time.Time { return checkNow }})
			row := goodRow()
			for f, v := range tt.change {
				row[f] = v
			}
			var v Visitor
			if errs := c.Check(record(3, row), &v, nil); len(errs) != 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if !tt.check(v) {
				t.Errorf("visitor %+v", v)
			}
		})
	}
}

func TestCheckDuplicateAndMemo(t *testing.T) {
	t.Parallel()
	c := NewChecker(fullHeader(), CheckConfig{Now: func() time.Time { return checkNow }})
	var v Visitor
	if errs := c.Check(record(2, goodRow()), &v, nil); len(errs) != 0 {
		t.Fatal(errs)
	}
	// A bad row in the same place must not poison the memo of the good one.
	bad := goodRow()
	bad[FieldCabinet] = "AM1:01:000999:0101"
	bad[FieldFirstName] = "Bob"
	if errs := c.Check(record(3, bad), &v, nil); len(errs) != 1 || errs[0].Row != 3 {
		t.Fatalf("bad cabinet: %v", errs)
	}
	other := goodRow()
	other[FieldFirstName] = "Carl"
	if errs := c.Check(record(4, other), &v, nil); len(errs) != 0 {
		t.Fatalf("row after a bad one: %v", errs)
	}
	same := goodRow()
	same[FieldFirstName] = "ANNA"
	errs := c.Check(record(9, same), &v, nil)
	if len(errs) != 1 || errs[0].Code != CodeDuplicateVisitor || !strings.Contains(errs[0].Message, "row 2") {
		t.Fatalf("duplicate: %v", errs)
	}
	// The same visitor in another window is a second visit, not a duplicate.
	later := goodRow()
	later[FieldStart], later[FieldEnd] = "2027-02-11 08:00", "2027-02-11 18:00"
	if errs := c.Check(record(10, later), &v, nil); len(errs) != 0 {
		t.Fatalf("second visit: %v", errs)
	}
}

func TestMissingColumns(t *testing.T) {
	t.Parallel()
	h := fullHeader()
	h.Index[FieldCage] = -1
	h.Index[FieldStart] = -1
	h.Index[FieldUsername] = -1
	h.Index[FieldCompany] = -1
	errs := MissingColumns(h, CheckConfig{})
	var got []string
	for _, e := range errs {
		got = append(got, e.Message)
	}
	want := []string{"the roster has no Cage column", "the roster has no Visit Start column", "the roster has no Company column"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	window := func(*time.Location) (time.Time, time.Time, error) { return checkNow, checkNow, nil }
	h.Index[FieldCage], h.Index[FieldCompany], h.Index[FieldEnd] = 2, 9, -1
	if errs := MissingColumns(h, CheckConfig{Window: window}); len(errs) != 0 {
		t.Errorf("with a window, dates are not needed: %v", errs)
	}
}

func TestMetroZone(t *testing.T) {
	t.Parallel()
	for ibx, want := range map[string]string{"AM1": "Europe/Amsterdam", "dc2": "America/New_York", "SG3": "Asia/Singapore", "TY11": "Asia/Tokyo"} {
		if z, ok := MetroZone(ibx); !ok || z != want {
			t.Errorf("MetroZone(%s) = %q, %v; want %s", ibx, z, ok, want)
		}
	}
	for _, z := range metroZones() {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("zone table: %v", err)
		}
	}
	if _, ok := MetroZone("QQ1"); ok {
		t.Error("QQ is not a metro")
	}
}

func TestCheckDuplicateInterleaved(t *testing.T) {
	t.Parallel()
	c := NewChecker(fullHeader(), CheckConfig{Now: func() time.Time { return checkNow }})
	var v Visitor
	row := 1
	check := func(name, cabinet string) []RowError {
		r := goodRow()
		r[FieldFirstName], r[FieldCabinet] = name, cabinet
		row++
		return c.Check(record(row, r), &v, nil)
	}
	// More visitors in one place than are searched one by one, in two
	// places whose rows alternate.
	names := make([]string, 3*placeScan)
	for i := range names {
		names[i] = "Anna " + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	for _, n := range names {
		for _, cab := range []string{"0101", "0102"} {
			if errs := check(n, cab); len(errs) != 0 {
				t.Fatalf("%s in %s: %v", n, cab, errs)
			}
		}
	}
	for i, n := range []string{names[0], names[placeScan], names[len(names)-1]} {
		errs := check(strings.ToUpper(n), "0102")
		if len(errs) != 1 || errs[0].Code != CodeDuplicateVisitor {
			t.Fatalf("duplicate %d: %v", i, errs)
		}
	}
	// The first of the duplicates is on row 3: the second row checked.
	errs := check(names[0], "0102")
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "already on row 3 ") {
		t.Errorf("duplicate: %v", errs)
	}
	if errs := check("Zora", "0101"); len(errs) != 0 {
		t.Errorf("a new visitor: %v", errs)
	}
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"anna@acme.example", true},
		{"anna.de-vries+wv@mail.acme.co.uk", true},
		{"a@b.co", true},
		{"o'brien@acme.example", true},
		{"anna@acme", false},
		{"anna@acme.c", false},
		{"anna@acme.c0m", false},
		{"anna@acme..example", false},
		{"anna@.acme.example", false},
		{"anna@acme.example.", false},
		{"@acme.example", false},
		{"anna@", false},
		{".anna@acme.example", false},
		{"anna.@acme.example", false},
		{"an..na@acme.example", false},
		{"an na@acme.example", false},
		{"anna<x>@acme.example", false},
		{"anna,b@acme.example", false},
		{"anné@acme.example", false},
		{"anna@acmé.example", false},
		{"anna@acme_x.example", false},
		{"a@b@acme.example", false},
	} {
		if got := validEmail(tt.s); got != tt.want {
			t.Errorf("validEmail(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestCheckDuplicateCase: the same visitor in other letter case is a
// duplicate, whichever way the names are hashed (short ASCII names take a
// faster path than others).
func TestCheckDuplicateCase(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Longname ", 11) // with the company, past the short path's buffer
	tests := []struct {
		name         string
		first, again [3]string // first name, last name, company
	}{
		{"ascii", [3]string{"Anna", "de Vries", "Acme"}, [3]string{"ANNA", "DE VRIES", "acme"}},
		{"accented", [3]string{"Renée", "Müller", "Señor"}, [3]string{"RENÉE", "MÜLLER", "SEÑOR"}},
		{"kelvin sign lowers to ascii", [3]string{"Kelvin", "Smit", "Acme"}, [3]string{"\u212Aelvin", "Smit", "Acme"}},
		{"long", [3]string{long[:99], long[:99], long[:99]}, [3]string{strings.ToUpper(long[:99]), long[:99], long[:99]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewChecker(fullHeader(), CheckConfig{Now: func() time.Time { return checkNow }})
			var v Visitor
			row := func(n int, who [3]string) []RowError {
				r := goodRow()
				r[FieldFirstName], r[FieldLastName], r[FieldCompany] = who[0], who[1], who[2]
				return c.Check(record(n, r), &v, nil)
			}
			if errs := row(2, tt.first); len(errs) != 0 {
				t.Fatal(errs)
			}
			other := tt.first
			other[1] += "x"
			if errs := row(3, other); len(errs) != 0 {
				t.Fatalf("another visitor: %v", errs)
			}
			if errs := row(4, tt.again); len(errs) != 1 || errs[0].Code != CodeDuplicateVisitor || !strings.Contains(errs[0].Message, "row 2 ") {
				t.Fatalf("the same visitor again: %v", errs)
			}
		})
	}
}

func TestNameAndControlRules(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s             string
		name, control bool
	}{
		{"Anna", true, false},
		{"de Vries", true, false},
		{"O'Brien-Smith Jr.", true, false},
		{"Renée", true, false},
		{"Zoë", true, false},
		{"Ærøskøbing", true, false},
		{"O’Neil", true, false},
		{"Anna\u00a0Maria", true, false},
		{"José", true, false},
		{"D4vid", false, false},
		{"anna@acme", false, false},
		{"Anna_B", false, false},
		{"- .", false, false},
		{"", false, false},
		{"Anna\tB", false, true},
		{"Anna\nB", false, true},
		{"Anna\x7fB", false, true},
		{"Renée\u0085", false, true},
		{"Acme (NL) B.V.", false, false},
	} {
		if got := validName(tt.s); got != tt.name {
			t.Errorf("validName(%q) = %v, want %v", tt.s, got, tt.name)
		}
		if got := hasControl(tt.s); got != tt.control {
			t.Errorf("hasControl(%q) = %v, want %v", tt.s, got, tt.control)
		}
	}
}
