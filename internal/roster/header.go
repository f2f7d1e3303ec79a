package roster

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fieldAliases are the header names each visitor column is known by, besides
// its own name. They are matched after normalizeHeader.
var fieldAliases = [NumFields][]string{
	FieldIBX:               {"ibx", "ibx code", "site", "data center", "datacenter"},
	FieldCage:              {"cage", "cage id", "cage number"},
	FieldCabinet:           {"cabinet", "cabinet id", "rack"},
	FieldAccount:           {"account", "account number", "account no", "account #"},
	FieldStart:             {"visit start", "start", "start date", "start time", "from", "arrival", "visit start date time"},
	FieldEnd:               {"visit end", "end", "end date", "end time", "to", "departure"},
	FieldTimeZone:          {"time zone", "timezone", "tz", "zone"},
	FieldFirstName:         {"first name", "firstname", "given name", "forename"},
	FieldLastName:          {"last name", "surname", "family name"},
	FieldCompany:           {"company", "company name", "organisation", "organization", "employer"},
	FieldUsername:          {"username", "user name", "user id", "registered user", "equinix username"},
	FieldEmail:             {"email", "e-mail", "email address"},
	FieldMobileCountryCode: {"mobile country code", "country code", "phone country code", "dial code"},
	FieldMobilePhone:       {"mobile phone", "mobile", "phone", "mobile number", "phone number", "cell"},
	FieldOpenCabinet:       {"open cabinet", "cabinet open"},
}

// headerNames maps every normalized header name to its field.
var headerNames = func() map[string]Field {
	m := make(map[string]Field)
	for f := range NumFields {
		m[normalizeHeader(f.String())] = f
		for _, a := range fieldAliases[f] {
			m[normalizeHeader(a)] = f
		}
	}
	return m
}()

// normalizeHeader folds a header cell for matching: lower case, with spaces,
// underscores, hyphens and other punctuation removed ("Visit_Start",
// "VISIT-START" and "visit start" all become "visitstart").
func normalizeHeader(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// FieldByName returns the visitor column a header cell names, matching the
// column's own name and its common aliases ("Start Date", "Surname",
// "E-mail") regardless of case, spaces and punctuation.
func FieldByName(name string) (Field, bool) {
	f, ok := headerNames[normalizeHeader(name)]
	return f, ok
}

// MapHeader maps a header row's cells to visitor columns. Cells that name no
// visitor column are listed in Header.Ignored (empty cells are left out);
// fields with no column have index -1. Two columns naming the same field are
// a *FileError (with only Column and Msg set: the caller fills in where).
// The returned Header has no Path, Sheet or Row.
func MapHeader(cells []string) (*Header, error) {
	h := &Header{Columns: make([]string, len(cells))}
	for f := range h.Index {
		h.Index[f] = -1
	}
	for i, c := range cells {
		c = strings.TrimSpace(c)
		h.Columns[i] = c
		if c == "" {
			continue
		}
		f, ok := FieldByName(c)
		if !ok {
			h.Ignored = append(h.Ignored, c)
			continue
		}
		if j := h.Index[f]; j >= 0 {
			return nil, &FileError{
				Column: ColumnName(i),
				Msg: fmt.Sprintf("columns %s (%q) and %s (%q) both name the %s column",
					ColumnName(j), h.Columns[j], ColumnName(i), c, f),
				Hint: "rename or delete one of them so that each visitor column appears once",
			}
		}
		h.Index[f] = i
	}
	return h, nil
}

// recognized counts the header cells that name a visitor column, counting a
// field named twice twice.
func recognized(cells []Cell) int {
	n := 0
	for i := range cells {
		if _, ok := FieldByName(cells[i].Text); ok {
			n++
		}
	}
	return n
}

// firstRecognized returns the first header cell that names a visitor column.
func firstRecognized(cells []Cell) (int, bool) {
	for i := range cells {
		if _, ok := FieldByName(cells[i].Text); ok {
			return i, true
		}
	}
	return 0, false
}

// expectedColumns lists the template's column names, for hints.
func expectedColumns() string {
	names := make([]string, NumFields)
	for f := range NumFields {
		names[f] = f.String()
	}
	return strings.Join(names, ", ")
}

// shorten cuts s to at most n runes for quoting in a message.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
