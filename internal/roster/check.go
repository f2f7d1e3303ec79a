package roster

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Row error codes. They are stable: reports and scripts may rely on them.
const (
	CodeRequired           = "required"
	CodeNameOrUsername     = "name-or-username"
	CodeNameInvalid        = "name-invalid"
	CodeTooLong            = "too-long"
	CodeUsernameInvalid    = "username-invalid"
	CodeEmailInvalid       = "email-invalid"
	CodePhoneInvalid       = "phone-invalid"
	CodeCountryCodeInvalid = "country-code-invalid"
	CodeCountryCodeMissing = "country-code-missing"
	CodeIBXInvalid         = "ibx-invalid"
	CodeCageInvalid        = "cage-invalid"
	CodeCageNotInIBX       = "cage-not-in-ibx"
	CodeCabinetInvalid     = "cabinet-invalid"
	CodeCabinetNotInCage   = "cabinet-not-in-cage"
	CodeAccountInvalid     = "account-invalid"
	CodeZoneUnknown        = "zone-unknown"
	CodeMetroUnknown       = "metro-unknown"
	CodeDateInvalid        = "date-invalid"
	CodeDateAmbiguous      = "date-ambiguous"
	CodeTimeNonexistent    = "time-nonexistent"
	CodeEndBeforeStart     = "end-before-start"
	CodeStartInPast        = "start-in-past"
	CodeOpenCabinetInvalid = "open-cabinet-invalid"
	CodeDuplicateVisitor   = "duplicate-visitor"
	// CodeCabinetNumber: the Cabinet cell is a number, which lost the
	// cabinet's leading zeros, and nothing tells which cabinet it was.
	CodeCabinetNumber = "cabinet-number"
	// CodeFormulaUncalculated: a formula cell has no saved value.
	CodeFormulaUncalculated = "formula-uncalculated"
)

// RowError is one problem with one roster row, in words a person can act on.
type RowError struct {
	Row     int    `json:"row"`    // as the spreadsheet shows it
	Column  string `json:"column"` // column letters, "" when not about one column
	Field   string `json:"field"`  // the visitor column's name
	Value   string `json:"value"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

// Error returns the problem as one line.
func (e RowError) Error() string {
	where := fmt.Sprintf("row %d", e.Row)
	if e.Column != "" {
		where += fmt.Sprintf(", column %s (%s)", e.Column, e.Field)
	} else if e.Field != "" {
		where += " (" + e.Field + ")"
	}
	return where + ": " + e.Message
}

// Window is a visit window for rows that carry no dates of their own (a
// recurring job's roster). It is given the IBX's zone and returns UTC
// instants.
type Window func(loc *time.Location) (start, end time.Time, err error)

// CheckConfig configures a Checker. The zero value checks against the
// current time with unambiguous dates only.
type CheckConfig struct {
	// Now is the clock that decides whether a visit starts in the past.
	Now func() time.Time
	// DateOrder says how to read dates like 03/04/2027.
	DateOrder DateOrder
	// ColumnOrder is the day/month order of the Visit Start and Visit End
	// columns (in that order) when DateOrder is auto: the order the other
	// rows of the column settle (see Checker.Settled).
	ColumnOrder [2]DateOrder
	// Window supplies the visit window of rows without dates.
	Window Window
	// Preflight tells that the rows are checked against the account after
	// these checks: a Cabinet cell holding a number is left for it to match
	// with the cage's cabinet of that number.
	Preflight bool
}

// Checker checks roster rows one at a time. It remembers the visitors it has
// seen, to find the same visitor twice in one place and window. A Checker is
// not safe for concurrent use.
type Checker struct {
	cfg    CheckConfig
	header *Header
	now    time.Time
	zones  zoneCache
	seed   maphash.Seed
	seen   visitorSet

	// caches of the last value read per column: rosters repeat them.
	lastZone  string // the zone of the last window read, and its location
	lastLoc   *time.Location
	dates     [2]dateMemo
	dateCache map[dateKey]dateResult
	walls     [wallCacheSize]wallEntry
	place     placeMemo
	placeIDs  map[placeName]int32

	// evidence of each date column's day/month order, for Settled.
	evidence [2]dateEvidence
	// numberPhones are the rows whose Mobile Phone is a number cell.
	numberPhones RowSet
}

// NumberPhones returns the rows whose Mobile Phone was a number cell, which
// drops a leading 0: see NumberPhonesNote.
func (c *Checker) NumberPhones() *RowSet { return &c.numberPhones }

// NumberPhonesNote is the note for phone numbers read from number cells.
func NumberPhonesNote(rows *RowSet) string {
	what := "row " + rows.String() + " is a number cell, which drops"
	if rows.Len() > 1 {
		what = "rows " + rows.String() + " are number cells, which drop"
	}
	return "Mobile Phone of " + what + " a leading 0 (0612 345 678 becomes 612345678): " +
		"after a country code that is how most numbers are dialled, but format the column as Text to keep them as typed"
}

// dateEvidence is what a date column's rows say of its day/month order:
// the first row whose date could be read either way, and the first whose
// date is only readable day first (25/04/2027) or month first (04/25/2027).
type dateEvidence struct {
	ambiguous        int
	dmy, mdy         int
	dmyText, mdyText string
}

type dateMemo struct {
	cell Cell
	loc  *time.Location
	t    time.Time
	prob *dateProblem
}

// maxDateCache bounds the cache of date cells read: a roster has few
// distinct dates, and each is read many times.
const maxDateCache = 4096

type dateKey struct {
	text string
	kind CellKind
	end  bool
	loc  *time.Location
}

type dateResult struct {
	t    time.Time
	prob *dateProblem
}

// wallEntry remembers what a wall-clock time is in a zone: the walls cache,
// direct-mapped, for ISO text dates.
type wallEntry struct {
	wall uint64 // packWall's; 0 in an unused entry
	loc  *time.Location
	r    dateResult
}

const (
	wallCacheBits = 10
	wallCacheSize = 1 << wallCacheBits
)

type placeMemo struct {
	ibx, cage, cabinet, zone string
	cabinetNumber            bool
	valid                    bool
	id                       int32 // the place's number, when valid
	out                      Visitor
	errs                     []RowError
}

// placeName is a place as the duplicate check knows it: a cage and cabinet.
type placeName struct{ cage, cabinet string }

// NewChecker returns a Checker for rows read under header h.
func NewChecker(h *Header, cfg CheckConfig) *Checker {
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	return &Checker{
		cfg:    cfg,
		header: h,
		now:    now().UTC(),
		seed:   maphash.MakeSeed(),

		dateCache: make(map[dateKey]dateResult),
		placeIDs:  make(map[placeName]int32),
	}
}

// MissingColumns returns what the roster lacks to be checked at all, as
// row errors on the header row. Rows without dates are allowed only when the
// configuration supplies a window.
func MissingColumns(h *Header, cfg CheckConfig) []RowError {
	var errs []RowError
	missing := func(fields []Field, msg, hint string) {
		errs = append(errs, RowError{Row: h.Row, Field: fields[0].String(), Code: CodeRequired, Message: msg, Hint: hint})
	}
	if !h.Has(FieldCage) {
		missing([]Field{FieldCage}, "the roster has no Cage column",
			`add a column "Cage" with the cage of each visit, e.g. AM1:01:000111`)
	}
	if cfg.Window == nil {
		for _, f := range []Field{FieldStart, FieldEnd} {
			if !h.Has(f) {
				missing([]Field{f}, fmt.Sprintf("the roster has no %s column", f),
					fmt.Sprintf("add a column %q with the IBX's local date and time, e.g. 2027-01-11 08:00", f.String()))
			}
		}
	}
	hasNames := h.Has(FieldFirstName) && h.Has(FieldLastName) && h.Has(FieldCompany)
	if !hasNames && !h.Has(FieldUsername) {
		var lack []string
		for _, f := range []Field{FieldFirstName, FieldLastName, FieldCompany} {
			if !h.Has(f) {
				lack = append(lack, f.String())
			}
		}
		missing([]Field{FieldFirstName}, fmt.Sprintf("the roster has no %s column", strings.Join(lack, ", ")),
			`add columns "First Name", "Last Name" and "Company" (or "Username" for registered Equinix users)`)
	}
	return errs
}

// Check checks one record. It fills v with the visitor the row describes and
// returns errs with the row's problems appended; the row is valid when none
// were appended.
func (c *Checker) Check(rec *Record, v *Visitor, errs []RowError) []RowError {
	n := len(errs)
	*v = Visitor{Row: rec.Row}
	add := func(f Field, code, msg, hint string) {
		errs = append(errs, RowError{
			Row: rec.Row, Column: c.header.Column(f), Field: f.String(),
			Value: rec.Cells[f].Text, Code: code, Message: msg, Hint: hint,
		})
	}

	if formulas(rec) {
		for f := range NumFields {
			if rec.Cells[f].Kind == KindFormula {
				add(f, CodeFormulaUncalculated, fmt.Sprintf("%s has a formula that was never calculated: open and save the file in Excel", f),
					"the program that wrote the file stores formulas without their values; open the file in Excel or LibreOffice and save it, or type the values instead of formulas")
			}
		}
		return errs
	}

	placeOK := c.checkPlace(rec, v, &errs)
	c.checkVisitor(rec, v, add)

	switch oc := strings.ToUpper(rec.Value(FieldOpenCabinet)); oc {
	case "", "N", "NO", "FALSE", "0":
	case "Y", "YES", "TRUE", "1":
		v.OpenCabinet = true
	default:
		add(FieldOpenCabinet, CodeOpenCabinetInvalid,
			fmt.Sprintf("Open Cabinet %q is not Y or N", rec.Value(FieldOpenCabinet)),
			"write Y if Equinix should open the cabinet for the visitors, N (or leave it empty) if not")
	}

	if placeOK {
		c.checkWindow(rec, v, add)
	}

	if len(errs) == n {
		c.checkDuplicate(rec, v, add)
	}
	return errs
}

// formulas reports whether a cell of the row is a formula with no value.
func formulas(rec *Record) bool {
	for f := range rec.Cells {
		if rec.Cells[f].Kind == KindFormula {
			return true
		}
	}
	return false
}

func (c *Checker) checkPlace(rec *Record, v *Visitor, errs *[]RowError) bool {
	ibx, cage, cabinet, zone := rec.Value(FieldIBX), rec.Value(FieldCage), rec.Value(FieldCabinet), rec.Value(FieldTimeZone)
	cabinetNumber := rec.Cells[FieldCabinet].Kind == KindNumber
	m := &c.place
	if m.errs != nil || m.valid {
		if m.ibx == ibx && m.cage == cage && m.cabinet == cabinet && m.zone == zone && m.cabinetNumber == cabinetNumber {
			c.copyPlace(rec, v, errs)
			return m.valid
		}
	}
	m.ibx, m.cage, m.cabinet, m.zone, m.cabinetNumber = ibx, cage, cabinet, zone, cabinetNumber
	m.out = Visitor{}
	m.errs = m.errs[:0]
	m.valid = c.place1(rec, &m.out, &m.errs)
	if m.valid {
		k := placeName{m.out.Cage, m.out.Cabinet}
		id, ok := c.placeIDs[k]
		if !ok {
			id = int32(len(c.placeIDs))
			c.placeIDs[k] = id
		}
		m.id = id
	}
	if m.errs == nil {
		m.errs = []RowError{}
	}
	c.copyPlace(rec, v, errs)
	return m.valid
}

func (c *Checker) copyPlace(rec *Record, v *Visitor, errs *[]RowError) {
	m := &c.place
	v.IBX, v.Cage, v.Cabinet, v.Zone = m.out.IBX, m.out.Cage, m.out.Cabinet, m.out.Zone
	v.CabinetIsNumber = m.out.CabinetIsNumber
	for _, e := range m.errs {
		e.Row = rec.Row
		*errs = append(*errs, e)
	}
}

// place1 checks IBX, cage, cabinet and time zone.
func (c *Checker) place1(rec *Record, v *Visitor, errs *[]RowError) bool {
	add := func(f Field, code, msg, hint string) {
		*errs = append(*errs, RowError{
			Row: rec.Row, Column: c.header.Column(f), Field: f.String(),
			Value: rec.Cells[f].Text, Code: code, Message: msg, Hint: hint,
		})
	}
	ok := true
	ibx := strings.ToUpper(rec.Value(FieldIBX))
	if ibx != "" && !validIBX(ibx) {
		add(FieldIBX, CodeIBXInvalid, fmt.Sprintf("%q is not an IBX code", rec.Value(FieldIBX)),
			"an IBX code is two letters and a number, e.g. AM1, DC2 or LD8")
		ok = false
	}
	cage := strings.ToUpper(rec.Value(FieldCage))
	cageIBX, cageOK := splitCage(cage)
	switch {
	case cage == "":
		add(FieldCage, CodeRequired, "the cage is empty",
			"write the cage the visitors go to, as IBX:floor:cage, e.g. AM1:01:000111")
		ok = false
	case !cageOK:
		add(FieldCage, CodeCageInvalid, fmt.Sprintf("%q is not a cage id", rec.Value(FieldCage)),
			"write the cage as IBX:floor:cage, e.g. AM1:01:000111 (the Equinix portal lists your cages)")
		ok = false
	case ibx != "" && validIBX(ibx) && cageIBX != ibx:
		add(FieldCage, CodeCageNotInIBX, fmt.Sprintf("cage %s is not in IBX %s", cage, ibx),
			fmt.Sprintf("the cage id starts with its IBX: either the IBX is %s, or the cage is wrong", cageIBX))
		ok = false
	}
	if ibx == "" {
		ibx = cageIBX
	}
	v.IBX, v.Cage = ibx, cage

	if cab := strings.ToUpper(rec.Value(FieldCabinet)); cab != "" && cageOK {
		switch {
		case rec.Cells[FieldCabinet].Kind == KindNumber && allDigits(cab):
			v.Cabinet, v.CabinetIsNumber = cage+":"+cab, true
			if len(cab) < 4 && !c.cfg.Preflight {
				add(FieldCabinet, CodeCabinetNumber,
					fmt.Sprintf("Cabinet %s is a number cell, which drops leading zeros (0101 becomes 101): which cabinet of cage %s it is cannot be told offline", cab, cage),
					fmt.Sprintf("format the Cabinet column as Text and type the number as the cabinet shows it (0101), or write the full id (%s:0101); or check it against your cabinets with validate --online", cage))
				ok = false
			}
		case validCabinetNumber(cab):
			v.Cabinet = cage + ":" + cab
		case strings.HasPrefix(cab, cage+":") && validCabinetNumber(cab[len(cage)+1:]):
			v.Cabinet = cab
		case strings.Count(cab, ":") == 3:
			add(FieldCabinet, CodeCabinetNotInCage, fmt.Sprintf("cabinet %s is not in cage %s", cab, cage),
				fmt.Sprintf("a cabinet id is its cage id and a number, e.g. %s:0101; check the cage or the cabinet", cage))
			ok = false
		default:
			add(FieldCabinet, CodeCabinetInvalid, fmt.Sprintf("%q is not a cabinet id", rec.Value(FieldCabinet)),
				fmt.Sprintf("write the cabinet as %s:0101, or just its number 0101, or leave it empty for the whole cage", cage))
			ok = false
		}
	}

	zone := rec.Value(FieldTimeZone)
	switch {
	case zone != "":
		if _, err := c.zones.load(zone); err != nil {
			add(FieldTimeZone, CodeZoneUnknown, fmt.Sprintf("%q is not a time zone", zone),
				"write an IANA time zone such as Europe/Amsterdam or America/New_York, or leave it empty to use the IBX's")
			ok = false
		}
		v.Zone = zone
	case ibx != "" && validIBX(ibx):
		z, known := MetroZone(ibx)
		if !known {
			add(FieldIBX, CodeMetroUnknown, fmt.Sprintf("the time zone of IBX %s is not known", ibx),
				`add a "Time Zone" column with the IBX's zone, e.g. Europe/Amsterdam`)
			ok = false
		}
		v.Zone = z
	}
	return ok
}

func (c *Checker) checkWindow(rec *Record, v *Visitor, add func(Field, string, string, string)) {
	loc := c.lastLoc
	if v.Zone != c.lastZone || loc == nil {
		var err error
		if loc, err = c.zones.load(v.Zone); err != nil {
			return // reported with the place
		}
		c.lastZone, c.lastLoc = v.Zone, loc
	}
	if !c.header.Has(FieldStart) && !c.header.Has(FieldEnd) && c.cfg.Window != nil {
		start, end, err := c.cfg.Window(loc)
		if err != nil {
			add(FieldStart, CodeDateInvalid, err.Error(), "check the job's visit window rule")
			return
		}
		v.Start, v.End = start, end
	} else {
		var ok bool
		if v.Start, ok = c.date(rec, FieldStart, 0, loc, false, add); !ok {
			// Read the end all the same, for what it says of its column's
			// day/month order (see Settled).
			c.date(rec, FieldEnd, 1, loc, true, func(Field, string, string, string) {})
			return
		}
		if v.End, ok = c.date(rec, FieldEnd, 1, loc, true, add); !ok {
			return
		}
	}
	if !v.End.After(v.Start) {
		add(FieldEnd, CodeEndBeforeStart, fmt.Sprintf("the visit ends (%s) before it starts (%s)",
			local(v.End, loc), local(v.Start, loc)),
			"check both dates: the end must be later than the start")
		return
	}
	if v.Start.Before(c.now) {
		add(FieldStart, CodeStartInPast, fmt.Sprintf("the visit starts in the past (%s)", local(v.Start, loc)),
			"move the visit to a future date; Equinix does not accept visits that have begun")
	}
}

func local(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// date reads one date column; a date without a time means the start of the
// day for a start and the end of the day (23:59) for an end.
func (c *Checker) date(rec *Record, f Field, slot int, loc *time.Location, end bool, add func(Field, string, string, string)) (time.Time, bool) {
	cell := rec.Cells[f]
	m := &c.dates[slot]
	if m.loc != loc || m.cell != cell {
		m.cell, m.loc = cell, loc
		var r dateResult
		if w, ok := parseISOWall(cell); ok {
			// The common case, read without tokens and looked up by its
			// numbers rather than by its text.
			if end && !w.HasTime {
				w.Hour, w.Minute = 23, 59
			}
			r = c.wallIn(w, loc)
		} else {
			k := dateKey{text: cell.Text, kind: cell.Kind, end: end, loc: loc}
			var ok bool
			if r, ok = c.dateCache[k]; !ok {
				r = c.parseDate(cell, loc, slot, end)
				c.noteOrder(rec.Row, slot, cell, r)
				if len(c.dateCache) >= maxDateCache {
					clear(c.dateCache)
				}
				c.dateCache[k] = r
			}
		}
		m.t, m.prob = r.t, r.prob
	}
	if m.prob != nil {
		msg := m.prob.Msg
		if m.prob.Code == CodeRequired {
			msg = fmt.Sprintf("%s is empty", f)
		}
		add(f, m.prob.Code, msg, m.prob.Hint)
		return time.Time{}, false
	}
	return m.t, true
}

// wallIn is w.In(loc), the result remembered.
func (c *Checker) wallIn(w Wall, loc *time.Location) dateResult {
	k := packWall(w)
	e := &c.walls[(k*0x9e3779b97f4a7c15)>>(64-wallCacheBits)]
	if e.wall == k && e.loc == loc {
		return e.r
	}
	var r dateResult
	t, err := w.In(loc)
	if err != nil {
		r.prob = err.(*dateProblem)
	} else {
		r.t = t
	}
	*e = wallEntry{wall: k, loc: loc, r: r}
	return r
}

// parseDate reads a date cell of the date column slot in loc.
func (c *Checker) parseDate(cell Cell, loc *time.Location, slot int, end bool) dateResult {
	order := c.cfg.DateOrder
	if order == DateOrderAuto {
		order = c.cfg.ColumnOrder[slot]
	}
	w, p := parseWall(cell, order, c.header.Date1904)
	if p != nil {
		return dateResult{prob: p}
	}
	if end && !w.HasTime {
		w.Hour, w.Minute = 23, 59
	}
	t, err := w.In(loc)
	if err != nil {
		return dateResult{prob: err.(*dateProblem)}
	}
	return dateResult{t: t}
}

// noteOrder remembers what a date column's cell, read for the first time
// as r, says of the column's day/month order.
func (c *Checker) noteOrder(row, slot int, cell Cell, r dateResult) {
	e := &c.evidence[slot]
	if r.prob != nil && r.prob.Code == CodeDateAmbiguous {
		if e.ambiguous == 0 {
			e.ambiguous = row
		}
		return
	}
	switch dayMonthOrder(cell) {
	case DateOrderDMY:
		if e.dmy == 0 {
			e.dmy, e.dmyText = row, cell.Text
		}
	case DateOrderMDY:
		if e.mdy == 0 {
			e.mdy, e.mdyText = row, cell.Text
		}
	}
}

// Settlement is the day/month order the rows of a date column settle: some
// of its dates could be read either way (03/04/2027), others only one way
// (25/04/2027 is day first), and none the other way.
type Settlement struct {
	Field Field
	Order DateOrder
	// Row and Text are the first cell that settles it.
	Row  int
	Text string
}

// Ambiguous returns the first row whose date could be read two ways, or 0.
func (c *Checker) Ambiguous() int {
	a, b := c.evidence[0].ambiguous, c.evidence[1].ambiguous
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// Settled returns, for each date column with dates that could be read two
// ways, the order its other rows settle; columns whose rows do not settle
// it, or disagree, are left out. Check the rows again with that order in
// CheckConfig.ColumnOrder.
func (c *Checker) Settled() []Settlement {
	var out []Settlement
	for slot, f := range []Field{FieldStart, FieldEnd} {
		e := &c.evidence[slot]
		switch {
		case e.ambiguous == 0, e.dmy != 0 && e.mdy != 0:
		case e.dmy != 0:
			out = append(out, Settlement{Field: f, Order: DateOrderDMY, Row: e.dmy, Text: e.dmyText})
		case e.mdy != 0:
			out = append(out, Settlement{Field: f, Order: DateOrderMDY, Row: e.mdy, Text: e.mdyText})
		}
	}
	return out
}

// SettledNote says in words how a column's dates are read.
func (s Settlement) Note() string {
	how := "day first (03/04/2027 is 3 April 2027)"
	if s.Order == DateOrderMDY {
		how = "month first (03/04/2027 is March 4, 2027)"
	}
	return fmt.Sprintf("%s: dates that could be read two ways are read %s, as row %d's %s can only be read that way; "+
		"pass --date-order to read them otherwise", s.Field, how, s.Row, s.Text)
}

func (c *Checker) checkVisitor(rec *Record, v *Visitor, add func(Field, string, string, string)) {
	v.Account = rec.Value(FieldAccount)
	v.AccountIsNumber = rec.Cells[FieldAccount].Kind == KindNumber
	if a := v.Account; a != "" && !validAccount(a) {
		add(FieldAccount, CodeAccountInvalid, fmt.Sprintf("%q is not an account number", a),
			"write the Equinix account number (digits only), or leave it empty to use the cage's account")
	}
	if u := rec.Value(FieldUsername); u != "" {
		v.Username = u
		if msg := UsernameProblem(u); msg != "" {
			add(FieldUsername, CodeUsernameInvalid, fmt.Sprintf("username %q %s", u, msg),
				"write the visitor's Equinix portal username exactly as the portal shows it, or clear it and give First Name, Last Name and Company")
		}
	} else {
		v.FirstName, v.LastName, v.Company = rec.Value(FieldFirstName), rec.Value(FieldLastName), rec.Value(FieldCompany)
		if v.FirstName == "" && v.LastName == "" && v.Company == "" {
			add(FieldFirstName, CodeNameOrUsername, "the visitor has no name and no username",
				"give First Name, Last Name and Company as on the visitor's photo ID, or the Username of a registered Equinix user")
		} else {
			for _, f := range []Field{FieldFirstName, FieldLastName} {
				checkName(rec, f, add)
			}
			switch co := v.Company; {
			case co == "":
				add(FieldCompany, CodeRequired, "the company is empty",
					"write the company the visitor works for; Equinix requires it for visitors who are not registered users")
			case longerThan(co, 100):
				add(FieldCompany, CodeTooLong, "the company name is longer than 100 characters", "shorten the company name")
			case hasControl(co):
				add(FieldCompany, CodeNameInvalid, "the company name contains a line break or control character",
					"retype the company name on one line")
			}
		}
	}
	if e := rec.Value(FieldEmail); e != "" {
		v.Email = e
		switch {
		case len(e) > 100:
			add(FieldEmail, CodeEmailInvalid, "the email address is longer than 100 characters", "Equinix accepts at most 100 characters: use a shorter address")
		case !validEmail(e):
			add(FieldEmail, CodeEmailInvalid, fmt.Sprintf("%q is not an email address", e),
				"write one address like name@company.com, without spaces, angle brackets or a second address")
		}
	}
	cc, phone := rec.Value(FieldMobileCountryCode), rec.Value(FieldMobilePhone)
	if cc != "" {
		if cc[0] != '+' {
			// The international prefix 00 (0031), or a code typed as a
			// number, whose + Excel drops.
			if strings.HasPrefix(cc, "00") && len(cc) > 2 {
				cc = cc[2:]
			}
			cc = "+" + cc
		}
		v.MobileCountryCode = cc
		if !validCountryCode(cc) {
			add(FieldMobileCountryCode, CodeCountryCodeInvalid, fmt.Sprintf("%q is not a country calling code", rec.Value(FieldMobileCountryCode)),
				"write + and the country's calling code, e.g. +31 for the Netherlands or +1 for the US")
		}
	}
	if phone != "" {
		v.MobilePhone = phone
		if rec.Cells[FieldMobilePhone].Kind == KindNumber {
			c.numberPhones.Add(rec.Row)
		}
		if !validPhone(phone) {
			add(FieldMobilePhone, CodePhoneInvalid, fmt.Sprintf("%q is not a phone number Equinix accepts", phone),
				"use only digits, spaces, dots, dashes and brackets (2 to 40), optionally x or ext and an extension; put the country code in its own column")
		} else if cc == "" {
			add(FieldMobileCountryCode, CodeCountryCodeMissing, "the mobile phone has no country code",
				"write the country calling code of the phone, e.g. +31, in the Mobile Country Code column")
		}
	}
}

func checkName(rec *Record, f Field, add func(Field, string, string, string)) {
	name := rec.Value(f)
	switch {
	case name == "":
		add(f, CodeRequired, fmt.Sprintf("%s is empty", f),
			fmt.Sprintf("write the visitor's %s exactly as on their photo ID", strings.ToLower(f.String())))
	case longerThan(name, 100):
		add(f, CodeTooLong, fmt.Sprintf("%s is longer than 100 characters", f), "shorten it to the name on the photo ID")
	case !validName(name):
		add(f, CodeNameInvalid, fmt.Sprintf("%s %q contains characters a name does not have", f, name),
			"use letters, spaces, hyphens, apostrophes and dots only, exactly as on the photo ID (no digits, emails or notes)")
	}
}

func (c *Checker) checkDuplicate(rec *Record, v *Visitor, add func(Field, string, string, string)) {
	who := c.visitorHash(v)
	pw := placeWindow{place: c.place.id, start: v.Start.Unix(), end: v.End.Unix()}
	if first, dup := c.seen.add(pw, who, int32(rec.Row)); dup {
		who := cmp.Or(v.Username, v.FirstName+" "+v.LastName)
		f := FieldFirstName
		if v.Username != "" {
			f = FieldUsername
		}
		add(f, CodeDuplicateVisitor, fmt.Sprintf("%s is already on row %d for the same cage and window", who, first),
			"delete this row, or change its dates if it is a second visit")
	}
}

// visitorHash hashes who a visitor is, ignoring case: the username, or the
// names and company, each lower-cased as strings.ToLower does.
func (c *Checker) visitorHash(v *Visitor) uint64 {
	// Most names are short ASCII: copy them into one buffer, lower-case it
	// a word at a time (the zeros past the text are ASCII too) and hash it.
	var buf [256]byte
	var n int
	if v.Username != "" {
		if 2+len(v.Username) <= len(buf) {
			buf[0] = 'u'
			n = 2 + copy(buf[2:], v.Username)
		}
	} else if 4+len(v.FirstName)+len(v.LastName)+len(v.Company) <= len(buf) {
		buf[0] = 'n'
		n = 2 + copy(buf[2:], v.FirstName)
		n += 1 + copy(buf[n+1:], v.LastName)
		n += 1 + copy(buf[n+1:], v.Company)
	}
	if n > 0 && lowerASCII(buf[:(n+7)&^7]) {
		return maphash.Bytes(c.seed, buf[:n])
	}
	b := buf[:0]
	if v.Username != "" {
		b = appendLower(append(b, 'u', 0), v.Username)
	} else {
		b = appendLower(append(b, 'n', 0), v.FirstName)
		b = appendLower(append(b, 0), v.LastName)
		b = appendLower(append(b, 0), v.Company)
	}
	return maphash.Bytes(c.seed, b)
}

// appendLower appends strings.ToLower(s) to b.
func appendLower(b []byte, s string) []byte {
	n := len(b)
	b = append(b, s...)
	if lowerASCII(b[n:]) {
		return b
	}
	// strings.ToLower maps each rune, an invalid byte becoming U+FFFD.
	b = b[:n]
	for _, r := range s {
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	return b
}

// longerThan reports whether s has more than n characters.
func longerThan(s string, n int) bool {
	return len(s) > n && utf8.RuneCountInString(s) > n
}

func validIBX(s string) bool {
	if len(s) < 3 || len(s) > 5 || !isUpper(s[0]) || !isUpper(s[1]) {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// splitCage checks a cage id IBX:FLOOR:CAGE and returns its IBX.
func splitCage(s string) (string, bool) {
	ibx, rest, ok := strings.Cut(s, ":")
	if !ok || !validIBX(ibx) {
		return ibx, false
	}
	floor, cage, ok := strings.Cut(rest, ":")
	if !ok || !alnum(floor, 1, 4) || !alnum(cage, 1, 12) {
		return ibx, false
	}
	return ibx, true
}

func validCabinetNumber(s string) bool { return alnum(s, 1, 12) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func validAccount(s string) bool {
	if len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func alnum(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !isUpper(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// UsernameProblem returns what is wrong with an Equinix username (8 to 100
// characters, no spaces, none of # ? ! $ ^ * ; < > [ ] { } % ' "), or "".
func UsernameProblem(u string) string {
	switch n := utf8.RuneCountInString(u); {
	case n < 8:
		return "is shorter than 8 characters"
	case n > 100:
		return "is longer than 100 characters"
	}
	if i := strings.IndexAny(u, "#?!$^*;<>[]{}%'\" \t"); i >= 0 {
		if u[i] == ' ' || u[i] == '\t' {
			return "contains a space"
		}
		return fmt.Sprintf("contains %q, which usernames cannot have", u[i])
	}
	if hasControl(u) {
		return "contains a control character"
	}
	return ""
}

// nameASCII classes the ASCII bytes of a name: nameLetter, nameMark (a
// space, hyphen, apostrophe or dot), or 0, a byte a name does not have.
var nameASCII = func() (t [utf8.RuneSelf]uint8) {
	for b := range t {
		switch {
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z':
			t[b] = nameLetter
		case b == ' ', b == '-', b == '\'', b == '.':
			t[b] = nameMark
		}
	}
	return t
}()

const (
	nameLetter = 1 + iota
	nameMark
)

func validName(s string) bool {
	letter := false
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			return validNameRunes(s[i:], letter)
		}
		switch nameASCII[b] {
		case 0:
			return false
		case nameLetter:
			letter = true
		}
	}
	return letter
}

// validNameRunes is validName for the rest of a name, letter telling
// whether the part before it had a letter.
func validNameRunes(s string, letter bool) bool {
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			switch nameASCII[r] {
			case 0:
				return false
			case nameLetter:
				letter = true
			}
		case unicode.IsLetter(r):
			letter = true
		case unicode.Is(unicode.Mn, r), r == '’', r == '\u00a0':
		default:
			return false
		}
	}
	return letter
}

func hasControl(s string) bool {
	// Eight ASCII bytes at a time, up to the first that is not ASCII.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := load64(s[i:])
		if w&msbs != 0 {
			break
		}
		if ctlBytes(w) != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if b := s[i]; b < ' ' || b == 0x7f {
			return true
		} else if b >= utf8.RuneSelf {
			return strings.ContainsFunc(s[i:], unicode.IsControl)
		}
	}
	return false
}

// emailLocalByte tells the bytes an address's local part may have: printable
// ASCII other than <>()[]\,;:"@.
var emailLocalByte = func() (t [256]bool) {
	for b := '!'; b < 0x7f; b++ {
		t[b] = !strings.ContainsRune(`<>()[]\,;:"@`, b)
	}
	return t
}()

// validEmail follows the address rule of Equinix's schemas: a local part
// without spaces or <>()[],;:"@, and a domain of dotted labels ending in a
// top-level name of letters.
func validEmail(s string) bool {
	// The local part, up to the first '@': the local part of the last '@'
	// would have this one in it, which it may not have.
	at, dot := 0, false
	for ; at < len(s) && s[at] != '@'; at++ {
		b := s[at]
		if !emailLocalByte[b] || b == '.' && dot {
			return false
		}
		dot = b == '.'
	}
	if at == 0 || at >= len(s)-1 || s[0] == '.' || dot {
		return false
	}
	// Labels of letters, digits and '-'; the last of at least two letters.
	labels, n, letters := 1, 0, true
	for i := at + 1; i < len(s); i++ {
		switch emailDomainByte[s[i]] {
		case domainDot:
			if n == 0 {
				return false
			}
			labels, n, letters = labels+1, 0, true
			continue
		case domainLetter:
		case domainOther:
			letters = false
		default:
			return false
		}
		n++
	}
	return labels >= 2 && n >= 2 && letters
}

// emailDomainByte classes the bytes of an address's domain.
var emailDomainByte = func() (t [256]uint8) {
	for b := range t {
		switch {
		case b == '.':
			t[b] = domainDot
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z':
			t[b] = domainLetter
		case b >= '0' && b <= '9' || b == '-':
			t[b] = domainOther
		}
	}
	return t
}()

const (
	domainDot = 1 + iota
	domainLetter
	domainOther // a digit or '-'
)

// validCountryCode is ^\+[0-9]{1,6}$.
func validCountryCode(s string) bool {
	if len(s) < 2 || len(s) > 7 || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// validPhone is ^[0-9\.\-() ]{2,40}(?:(x|ext)[0-9\.\-() ]{1,10})?$.
func validPhone(s string) bool {
	isPhone := func(b byte) bool { return isDigit(b) || b == '.' || b == '-' || b == '(' || b == ')' || b == ' ' }
	i := 0
	for i < len(s) && isPhone(s[i]) {
		i++
	}
	if i < 2 || i > 40 {
		return false
	}
	if i == len(s) {
		return true
	}
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "ext"):
		rest = rest[3:]
	case rest[0] == 'x':
		rest = rest[1:]
	default:
		return false
	}
	if len(rest) < 1 || len(rest) > 10 {
		return false
	}
	for j := 0; j < len(rest); j++ {
		if !isPhone(rest[j]) {
			return false
		}
	}
	return true
}
