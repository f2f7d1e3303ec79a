package rostergen

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// MaxXLSXRows is the most visitor rows an .xlsx roster holds: Excel's
// 1,048,576 rows less the header.
const MaxXLSXRows = 1<<20 - 1

// DefaultStart is the first visit's start when Options.Start is zero.
var DefaultStart = time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)

// Options describes the roster to write. The zero value writes an empty .xlsx
// roster (header only) for every known IBX.
type Options struct {
	// Rows is the number of visitor rows.
	Rows int
	// Seed makes the roster: the same options write the same roster.
	Seed int64
	// Start is the first visit's start as the IBX's local wall-clock time;
	// its location is ignored. Zero means DefaultStart.
	Start time.Time
	// Format is "xlsx" (the default) or "csv".
	Format string
	// IBXs chooses the cage sets the visitors go to, e.g. ["AM1"]; empty
	// means all of IBXs().
	IBXs []string
	// ErrorRate is the fraction of rows given one deliberate mistake (a bad
	// email, an end before the start, a cabinet of another cage, …); 0 makes
	// every row valid.
	ErrorRate float64
	// NoDates leaves out the Visit Start and Visit End columns, as in the
	// roster of a recurring job whose schedule supplies the window.
	NoDates bool
	// OrderPerRow makes every row its own order: each row has a visit
	// window of its own (the rows of a day start a minute apart) instead of
	// sharing one with 3 to 11 others. It has no effect with NoDates.
	OrderPerRow bool
}

func (o *Options) validate() error {
	switch {
	case o.Rows < 0:
		return fmt.Errorf("rows %d: want 0 or more", o.Rows)
	case o.Format != "xlsx" && o.Format != "csv":
		return fmt.Errorf("format %q: want xlsx or csv", o.Format)
	case o.Format == "xlsx" && o.Rows > MaxXLSXRows:
		return fmt.Errorf("rows %d: an xlsx sheet holds at most %d visitor rows; write csv for more", o.Rows, MaxXLSXRows)
	case math.IsNaN(o.ErrorRate) || o.ErrorRate < 0 || o.ErrorRate > 1:
		return fmt.Errorf("error rate %v: want a fraction from 0 to 1", o.ErrorRate)
	}
	for _, ibx := range o.IBXs {
		if findCageSet(ibx) == nil {
			return fmt.Errorf("IBX %q: the generator knows only %s", ibx, strings.Join(IBXs(), ", "))
		}
	}
	return nil
}

// Write writes a roster of opt.Rows visitors to w. Rows come in groups of 4
// to 12 visitors that share a cage, cabinet, Open Cabinet answer and visit
// window of 1 to 3 days, so they form many orders. The windows start on
// successive days from opt.Start: about 40 rows a day for small rosters,
// spread over about two years for large ones. Valid rows are valid against
// the sandbox's seeded accounts, and no two of them are the same visitor in
// the same place and window. An .xlsx roster is the roster template with its
// Visitors sheet streamed, so memory stays bounded at any size.
func Write(w io.Writer, opt Options) error {
	opt.Format = strings.ToLower(opt.Format)
	if opt.Format == "" {
		opt.Format = "xlsx"
	}
	if err := opt.validate(); err != nil {
		return fmt.Errorf("roster generator: %w", err)
	}
	g := newGenerator(opt)
	layout := allFields
	if opt.NoDates {
		layout = undatedFields
	}
	if opt.Format == "csv" {
		return writeCSV(w, layout, opt.Rows, g.next, csvDateLayout)
	}
	order := roster.OrderFields{
		Description:          fmt.Sprintf("Synthetic roster of %d visitors (seed %d)", opt.Rows, opt.Seed),
		ReferencePrefix:      "GEN",
		TechnicalContact:     "facilities.lead",
		NotificationContacts: []string{"noc.amsterdam"},
		ReportEmails:         []string{"facilities@acme.example"},
	}
	return writeXLSX(w, layout, opt.Rows, g.next, order)
}

// WriteFile writes the roster Write writes to path, in the format its
// extension names unless opt.Format is set. The roster is written to a
// temporary file beside path and renamed, so that path is never half a
// roster.
func WriteFile(path string, opt Options) (err error) {
	if opt.Format == "" {
		opt.Format = strings.TrimPrefix(filepath.Ext(path), ".")
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := Write(f, opt); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// IBXs lists the IBXs the generator has cages for.
func IBXs() []string {
	out := make([]string, len(cageSets))
	for i := range cageSets {
		out[i] = cageSets[i].ibx
	}
	return out
}

var (
	allFields     = fieldsExcept()
	undatedFields = fieldsExcept(roster.FieldStart, roster.FieldEnd)
)

func fieldsExcept(skip ...roster.Field) []roster.Field {
	var out []roster.Field
	for f := range roster.NumFields {
		if !slices.Contains(skip, f) {
			out = append(out, f)
		}
	}
	return out
}

// row is one visitor row. Visit Start and Visit End are the wall-clock times
// start and end, unless text holds them (a deliberately unreadable date).
type row struct {
	text       [roster.NumFields]string
	start, end time.Time
}

// cageSet is the sandbox's seeded account at one IBX.
type cageSet struct {
	ibx, account, zone string
	cages              []cage
	companies          []company
}

type cage struct {
	id       string
	cabinets []string // cabinet numbers, e.g. "0101"
}

type company struct {
	name, domain, countryCode string
}

func cabinetRange(from, to int) []string {
	var out []string
	for n := from; n <= to; n++ {
		out = append(out, fmt.Sprintf("%04d", n))
	}
	return out
}

var (
	dutch = []company{
		{"Voltwerk Installaties B.V.", "voltwerk.example", "+31"},
		{"Koelteam Nederland B.V.", "koelteam.example", "+31"},
		{"Delta Elektrotechniek", "delta-elektro.example", "+31"},
		{"Noordzee Datacenter Services", "noordzee-dcs.example", "+31"},
		{"Kabelwerk Amsterdam", "kabelwerk.example", "+31"},
	}
	british = []company{
		{"PowerCare Services Ltd", "powercare.example", "+44"},
		{"Thames Critical Power Ltd", "thamescp.example", "+44"},
		{"Fibrelink UK Ltd", "fibrelink.example", "+44"},
	}
	american = []company{
		{"Atlantic Power Systems Inc.", "atlanticpower.example", "+1"},
		{"Blue Ridge Mechanical LLC", "blueridge-mech.example", "+1"},
		{"Potomac Fiber Works", "potomacfiber.example", "+1"},
		{"Keystone UPS Services", "keystoneups.example", "+1"},
		{"Summit Electrical Contractors", "summit-electric.example", "+1"},
		{"Liberty Data Cabling Inc.", "libertycabling.example", "+1"},
		{"Chesapeake Cooling Co.", "chesapeakecooling.example", "+1"},
	}
)

var cageSets = []cageSet{
	{
		ibx: "AM1", account: "100001", zone: "Europe/Amsterdam",
		cages: []cage{
			{"AM1:01:000111", cabinetRange(101, 110)},
			{"AM1:01:000112", cabinetRange(201, 205)},
		},
		companies: slices.Concat(dutch, british),
	},
	{
		ibx: "DC2", account: "200001", zone: "America/New_York",
		cages:     []cage{{"DC2:01:123456", cabinetRange(101, 105)}},
		companies: slices.Concat(american, british[:1]),
	},
}

func findCageSet(ibx string) *cageSet {
	for i := range cageSets {
		if strings.EqualFold(cageSets[i].ibx, ibx) {
			return &cageSets[i]
		}
	}
	return nil
}

var firstNames = []string{
	"Anna", "Bram", "Chloé", "Daan", "Eva", "Femke", "Gert", "Hanna", "Isa", "Jan", "Karin", "Lars",
	"Maud", "Niels", "Olga", "Pieter", "Roos", "Sven", "Tess", "Ruud", "Wouter", "Yara", "Zoë", "Joris",
	"James", "Emily", "Oliver", "Sophie", "Harry", "Grace", "Thomas", "Amelia", "George", "Isla", "Jack", "Mia",
	"Michael", "Jennifer", "David", "Maria", "Robert", "Linda", "Carlos", "Aisha", "Kevin", "Priya", "Brian", "Renée",
}

var lastNames = []string{
	"de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
	"Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
	"Willems", "van Leeuwen", "Kok", "Schouten", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson",
	"Evans", "O'Connor", "Hughes", "Clarke", "Walker", "Wright", "Johnson", "Garcia", "Martinez", "Lee",
	"Anderson", "Thompson", "Nguyen", "Patel", "Robinson", "Müller", "Novak", "Kowalski",
}

// visitorCycle is how many rows pass before a name and company come round
// again.
const visitorCycle = 48 * 48 * 8

// namePrime walks the visitor cycle in a scrambled order; it shares no
// factor with visitorCycle.
const namePrime = 7919

var slugReplacer = strings.NewReplacer(
	" ", "", "'", "", "é", "e", "ë", "e", "è", "e", "ü", "u", "ö", "o", "ø", "o", "å", "a", "á", "a", "í", "i", "ç", "c", "ñ", "n",
)

// slug turns a name into the ASCII of an email address: "van den Berg" → "vandenberg".
func slug(name string) string { return slugReplacer.Replace(strings.ToLower(name)) }

// mobile returns a made-up mobile number in the style of the country.
func mobile(rng *rand.Rand, countryCode string) string {
	switch countryCode {
	case "+31":
		return fmt.Sprintf("6%02d %03d %03d", rng.IntN(100), rng.IntN(1000), rng.IntN(1000))
	case "+44":
		return fmt.Sprintf("7700 900%03d", rng.IntN(1000))
	default:
		areas := [...]string{"202", "301", "571", "703"}
		if rng.IntN(2) == 0 {
			return fmt.Sprintf("(%s) 555-01%02d", areas[rng.IntN(len(areas))], rng.IntN(100))
		}
		return fmt.Sprintf("%s.555.01%02d", areas[rng.IntN(len(areas))], rng.IntN(100))
	}
}

// registeredVisitor is the sandbox's registered visitor; some groups use it.
const registeredVisitor = "jane.visitor"

type generator struct {
	opt        Options
	rng        *rand.Rand
	sets       []*cageSet
	start      time.Time // first visit start, wall clock in UTC
	rowsPerDay int
	nameOffset int
	i          int // rows made so far

	grp       group
	janeSeen  map[janeKey]bool
	spoilers  []func(*generator, *row)
	nameSpoil []func(*generator, *row)
}

type group struct {
	left       int // rows still to make
	jane       int // the row (counting down left) that is the registered visitor, or -1
	set        *cageSet
	cage       *cage
	ibx        string
	cabinet    string
	zone       string
	start, end time.Time
	open       string
}

type janeKey struct {
	cage, cabinet string
	start, end    int64
}

func newGenerator(opt Options) *generator {
	g := &generator{
		opt:      opt,
		rng:      rand.New(rand.NewPCG(uint64(opt.Seed), 0x77766261746368)),
		start:    opt.Start,
		janeSeen: map[janeKey]bool{},
	}
	if g.start.IsZero() {
		g.start = DefaultStart
	}
	y, m, d := g.start.Date()
	g.start = time.Date(y, m, d, g.start.Hour(), g.start.Minute(), 0, 0, time.UTC)
	if len(opt.IBXs) == 0 {
		for i := range cageSets {
			g.sets = append(g.sets, &cageSets[i])
		}
	} else {
		for _, ibx := range opt.IBXs {
			if s := findCageSet(ibx); !slices.Contains(g.sets, s) {
				g.sets = append(g.sets, s)
			}
		}
	}
	// Spread the windows over about two years, but never so thin that a name
	// comes round again on the same day: that could repeat a visitor.
	g.rowsPerDay = min(max(40, (opt.Rows+729)/730), visitorCycle/2)
	if opt.OrderPerRow {
		// A minute each of the six hours from the first start, so that
		// every visit still ends at 16:00 or later, never in the night
		// (where a clock change could skip the time).
		g.rowsPerDay = min(g.rowsPerDay, 6*60)
	}
	g.nameOffset = g.rng.IntN(visitorCycle)
	g.spoilers = []func(*generator, *row){
		spoilEmail, spoilPhone, spoilCountryCode, spoilOpenCabinet, spoilCabinet, spoilIBX,
	}
	if !opt.NoDates {
		g.spoilers = append(g.spoilers, spoilEndBeforeStart, spoilDate)
	}
	g.nameSpoil = []func(*generator, *row){spoilName, spoilLastName}
	return g
}

func (g *generator) newGroup() {
	rng := g.rng
	set := g.sets[rng.IntN(len(g.sets))]
	c := &set.cages[rng.IntN(len(set.cages))]
	grp := group{left: 4 + rng.IntN(9), jane: -1, set: set, cage: c, ibx: set.ibx}
	if g.opt.OrderPerRow {
		grp.left = 1
	}
	if rng.IntN(10) == 0 {
		grp.ibx = "" // the cage names it
	}
	switch rng.IntN(4) {
	case 2:
		grp.cabinet = c.id + ":" + c.cabinets[rng.IntN(len(c.cabinets))]
	case 3:
		grp.cabinet = c.cabinets[rng.IntN(len(c.cabinets))]
	}
	if rng.IntN(20) == 0 {
		grp.zone = set.zone
	}
	day := g.i / g.rowsPerDay
	grp.start = g.start.AddDate(0, 0, day)
	switch {
	case g.opt.OrderPerRow:
		// A minute of its own: no other row shares the window.
		grp.start = grp.start.Add(time.Duration(g.i%g.rowsPerDay) * time.Minute)
	case g.i > 0:
		grp.start = grp.start.Add(time.Duration(rng.IntN(8)) * 30 * time.Minute)
	}
	days := 1 + rng.IntN(3)
	y, m, d := grp.start.Date()
	grp.end = time.Date(y, m, d+days-1, 16, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(5)) * 30 * time.Minute)
	if grp.end.Sub(grp.start) < 2*time.Hour {
		grp.end = grp.start.Add(8 * time.Hour)
	}
	grp.open = [...]string{"Y", "N", "N", ""}[rng.IntN(4)]
	if rng.IntN(40) == 0 {
		k := janeKey{c.id, grp.cabinet, grp.start.Unix(), grp.end.Unix()}
		if !g.janeSeen[k] {
			g.janeSeen[k] = true
			grp.jane = rng.IntN(grp.left)
		}
	}
	g.grp = grp
}

// next makes the next row.
func (g *generator) next(r *row) {
	if g.grp.left == 0 {
		g.newGroup()
	}
	grp := &g.grp
	grp.left--
	*r = row{start: grp.start, end: grp.end}
	t := &r.text
	t[roster.FieldIBX] = grp.ibx
	t[roster.FieldCage] = grp.cage.id
	t[roster.FieldCabinet] = grp.cabinet
	t[roster.FieldAccount] = grp.set.account
	t[roster.FieldTimeZone] = grp.zone
	t[roster.FieldOpenCabinet] = grp.open

	rng := g.rng
	named := grp.left != grp.jane
	if !named {
		t[roster.FieldUsername] = registeredVisitor
	} else {
		k := (g.i*namePrime + g.nameOffset) % visitorCycle
		first, last := firstNames[k%len(firstNames)], lastNames[k/len(firstNames)%len(lastNames)]
		co := grp.set.companies[k/(len(firstNames)*len(lastNames))%len(grp.set.companies)]
		t[roster.FieldFirstName], t[roster.FieldLastName], t[roster.FieldCompany] = first, last, co.name
		if rng.IntN(100) < 85 {
			t[roster.FieldEmail] = slug(first) + "." + slug(last) + "@" + co.domain
		}
		if rng.IntN(100) < 70 {
			t[roster.FieldMobileCountryCode] = co.countryCode
			t[roster.FieldMobilePhone] = mobile(rng, co.countryCode)
		}
	}
	g.i++

	if g.opt.ErrorRate > 0 && rng.Float64() < g.opt.ErrorRate {
		spoilers := g.spoilers
		if named {
			spoilers = slices.Concat(spoilers, g.nameSpoil)
		}
		spoilers[rng.IntN(len(spoilers))](g, r)
	}
}

// The spoilers each give a row one mistake of the kind people make.

func spoilEmail(_ *generator, r *row) {
	e := r.text[roster.FieldEmail]
	if at := strings.IndexByte(e, '@'); at > 0 {
		r.text[roster.FieldEmail] = e[:at] + " at " + e[at+1:]
	} else {
		r.text[roster.FieldEmail] = "see attached list"
	}
}

func spoilPhone(_ *generator, r *row) {
	if r.text[roster.FieldMobileCountryCode] == "" {
		r.text[roster.FieldMobileCountryCode] = "+31"
	}
	r.text[roster.FieldMobilePhone] = r.text[roster.FieldMobileCountryCode] + " 6 1234 5678"
}

func spoilCountryCode(g *generator, r *row) {
	if r.text[roster.FieldMobilePhone] == "" {
		r.text[roster.FieldMobilePhone] = mobile(g.rng, "+31")
	}
	r.text[roster.FieldMobileCountryCode] = [...]string{"NL", "USA", "UK"}[g.rng.IntN(3)]
}

func spoilOpenCabinet(g *generator, r *row) {
	r.text[roster.FieldOpenCabinet] = [...]string{"maybe", "yes please", "X"}[g.rng.IntN(3)]
}

func spoilCabinet(g *generator, r *row) {
	c := g.grp.cage
	r.text[roster.FieldCabinet] = c.id[:strings.IndexByte(c.id, ':')] + ":01:999999:0101"
}

func spoilIBX(_ *generator, r *row) {
	if strings.HasPrefix(r.text[roster.FieldCage], "AM1") {
		r.text[roster.FieldIBX] = "LD8"
	} else {
		r.text[roster.FieldIBX] = "AM1"
	}
}

func spoilEndBeforeStart(_ *generator, r *row) {
	r.start, r.end = r.end, r.start
}

func spoilDate(_ *generator, r *row) {
	y := r.start.Year()
	r.text[roster.FieldStart] = fmt.Sprintf("%d-02-30 %02d:%02d", y, r.start.Hour(), r.start.Minute())
}

func spoilName(_ *generator, r *row) {
	r.text[roster.FieldFirstName] += " (contractor)"
}

func spoilLastName(_ *generator, r *row) {
	r.text[roster.FieldLastName] = ""
}
