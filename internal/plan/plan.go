package plan

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash/maphash"
	"strconv"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// MaxReference is the longest customerReferenceId Equinix accepts.
const MaxReference = 40

// Config configures a Planner.
type Config struct {
	// RunID identifies the run the orders belong to; it is part of every
	// order's reference, so two runs never share one.
	RunID string
	// ReferencePrefix starts every reference (at most 12 characters of
	// letters, digits, '-' and '_' are kept).
	ReferencePrefix string
	// CountOnly keeps only the number of visitors of each order, not the
	// visitors themselves: enough to show a plan of a very large roster.
	CountOnly bool
}

type groupKey struct {
	ibx, cage, cabinet, account string
	start, end                  int64
	openCabinet                 bool
}

type group struct {
	key      groupKey
	zone     string
	visitors []roster.Visitor
	count    int
}

// Planner collects valid visitors and splits them into orders.
type Planner struct {
	cfg  Config
	hash func(*groupKey) uint64
	// groups finds a group by its key's hash; the rare key whose hash
	// another key already has is in collided. (A map keyed by the strings
	// themselves would hash them all again each time it grows.)
	groups   map[uint64]*group
	collided map[groupKey]*group
	order    []*group          // first-seen order
	strs     map[string]string // see intern
	last     *group            // the group of the last visitor added: rosters list groups together
}

// New returns an empty Planner.
func New(cfg Config) *Planner {
	cfg.ReferencePrefix = cleanPrefix(cfg.ReferencePrefix)
	seed := maphash.MakeSeed()
	return &Planner{cfg: cfg, hash: func(k *groupKey) uint64 { return k.hash(seed) }, groups: make(map[uint64]*group)}
}

// SetRunID sets Config.RunID. Only Orders uses it, so it may be set once
// every visitor has been added (an importer hashes the roster file while it
// reads the rows).
func (p *Planner) SetRunID(id string) { p.cfg.RunID = id }

// Add adds one valid visitor.
func (p *Planner) Add(v *roster.Visitor) {
	k := groupKey{
		ibx: v.IBX, cage: v.Cage, cabinet: v.Cabinet, account: v.Account,
		start: v.Start.Unix(), end: v.End.Unix(), openCabinet: v.OpenCabinet,
	}
	g := p.last
	if g == nil || g.key != k {
		g = p.find(k, v.Zone)
	}
	p.last = g
	g.count++
	if !p.cfg.CountOnly {
		g.visitors = append(g.visitors, *v)
	}
}

// find returns the group of k, new if need be.
func (p *Planner) find(k groupKey, zone string) *group {
	h := p.hash(&k)
	g, ok := p.groups[h]
	if ok && g.key == k {
		return g
	}
	if ok {
		if g = p.collided[k]; g != nil {
			return g
		}
	}
	// Keep copies of the key's strings: they may be parts of a much
	// larger string, such as a whole CSV record. Rosters name few IBXs,
	// cages, cabinets and accounts, so one copy of each serves all groups.
	k.ibx, k.cage, k.cabinet, k.account = p.intern(k.ibx), p.intern(k.cage), p.intern(k.cabinet), p.intern(k.account)
	g = &group{key: k, zone: p.intern(zone)}
	if ok {
		if p.collided == nil {
			p.collided = make(map[groupKey]*group)
		}
		p.collided[k] = g
	} else {
		p.groups[h] = g
	}
	p.order = append(p.order, g)
	return g
}

// intern returns a copy of s, the same copy for equal strings.
func (p *Planner) intern(s string) string {
	if s == "" {
		return ""
	}
	if l := p.last; l != nil {
		// A new group mostly shares its IBX, cage and account with the
		// one before.
		switch s {
		case l.key.ibx:
			return l.key.ibx
		case l.key.cage:
			return l.key.cage
		case l.key.account:
			return l.key.account
		case l.key.cabinet:
			return l.key.cabinet
		case l.zone:
			return l.zone
		}
	}
	if c, ok := p.strs[s]; ok {
		return c
	}
	c := strings.Clone(s)
	if p.strs == nil {
		p.strs = make(map[string]string)
	}
	p.strs[c] = c
	return c
}

func (k *groupKey) hash(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, s := range [...]string{k.ibx, k.cage, k.cabinet, k.account} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	var b [17]byte
	binary.LittleEndian.PutUint64(b[:], uint64(k.start))
	binary.LittleEndian.PutUint64(b[8:], uint64(k.end))
	if k.openCabinet {
		b[16] = 1
	}
	h.Write(b[:])
	return h.Sum64()
}

// Summary counts what a plan holds.
type Summary struct {
	Orders int
	// Visitors counts visitor rows; a visitor whose window was split is in
	// more than one order but counted once.
	Visitors int
	// SplitWindows is how many windows longer than 14 days were cut.
	SplitWindows int
}

// Orders returns the orders, in the order their first visitor appears in the
// roster, each window cut into at most 14 days and each group into at most
// 50 visitors.
func (p *Planner) Orders() ([]Order, Summary) {
	var sum Summary
	refs := newReferencer(p.cfg.ReferencePrefix, p.cfg.RunID)
	n := 0
	for _, g := range p.order {
		windows := int((g.key.end - g.key.start + int64(MaxWindow/time.Second) - 1) / int64(MaxWindow/time.Second))
		n += max(windows, 1) * ((g.count + MaxVisitors - 1) / MaxVisitors)
	}
	out := make([]Order, 0, n)
	var ws [][2]time.Time
	for _, g := range p.order {
		windows := Split(time.Unix(g.key.start, 0).UTC(), time.Unix(g.key.end, 0).UTC(), ws[:0])
		ws = windows
		if len(windows) > 1 {
			sum.SplitWindows++
		}
		sum.Visitors += g.count
		for wi, w := range windows {
			for from := 0; from < g.count; from += MaxVisitors {
				to := min(from+MaxVisitors, g.count)
				o := Order{
					IBX: g.key.ibx, Cage: g.key.cage, Cabinet: g.key.cabinet, Account: g.key.account,
					Start: w[0], End: w[1], Zone: g.zone, OpenCabinet: g.key.openCabinet,
					Count: to - from,
				}
				if !p.cfg.CountOnly {
					o.Visitors = g.visitors[from:to]
				}
				o.Key = orderKey(&g.key, wi, from/MaxVisitors)
				o.Reference = refs.reference(o.Key)
				out = append(out, o)
			}
		}
	}
	sum.Orders = len(out)
	return out, sum
}

// Split cuts [start, end) into consecutive windows of at most 14 days,
// appended to ws.
func Split(start, end time.Time, ws [][2]time.Time) [][2]time.Time {
	for end.Sub(start) > MaxWindow {
		ws = append(ws, [2]time.Time{start, start.Add(MaxWindow)})
		start = start.Add(MaxWindow)
	}
	return append(ws, [2]time.Time{start, end})
}

var refEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Reference returns the customerReferenceId of an order: the prefix, then
// eight characters naming the run and eight naming the order within it, so
// the same roster and settings give the same reference every time.
func Reference(prefix, runID, key string) string {
	return newReferencer(prefix, runID).reference(key)
}

// referencer makes the references of one run's orders.
type referencer struct {
	runID string
	head  string // the prefix and the run's eight characters, then "-"
	buf   []byte
}

func newReferencer(prefix, runID string) *referencer {
	run := sha256.Sum256([]byte(runID))
	head := refEncoding.EncodeToString(run[:5]) + "-"
	if prefix != "" {
		head = prefix + "-" + head
	}
	return &referencer{runID: runID, head: head}
}

func (r *referencer) reference(key string) string {
	r.buf = append(append(append(r.buf[:0], r.runID...), 0), key...)
	sum := sha256.Sum256(r.buf)
	var enc [8]byte
	refEncoding.Encode(enc[:], sum[:5])
	return r.head + string(enc[:])
}

// orderKey names an order within its run:
// cage/cabinet/account/start-end/openCabinet/wWINDOW/pPART.
func orderKey(k *groupKey, window, part int) string {
	b := make([]byte, 0, len(k.cage)+len(k.cabinet)+len(k.account)+48)
	b = append(b, k.cage...)
	b = append(b, '/')
	b = append(b, k.cabinet...)
	b = append(b, '/')
	b = append(b, k.account...)
	b = append(b, '/')
	b = strconv.AppendInt(b, k.start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, k.end, 10)
	b = append(b, '/')
	b = strconv.AppendBool(b, k.openCabinet)
	b = append(b, "/w"...)
	b = strconv.AppendInt(b, int64(window), 10)
	b = append(b, "/p"...)
	b = strconv.AppendInt(b, int64(part), 10)
	return string(b)
}

func cleanPrefix(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
		if b.Len() == 12 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}
