package plan

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wvbatch/wvbatch/internal/hashindex"
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

// group is the visitors of one key. Its strings are numbers in
// Planner.strs, so that groups hold no pointers: the garbage collector has
// nothing to scan in them, however many there are.
type group struct {
	ibx, cage, cabinet, account, zone int32
	openCabinet                       bool
	start, end                        int64
	count                             int
}

// Planner collects valid visitors and splits them into orders.
type Planner struct {
	cfg  Config
	hash func(*groupKey) uint64
	// index finds a group by its key's hash; the rare key whose hash
	// another key already has is in collided. (A map keyed by the strings
	// themselves would hash them all again each time it grows.)
	index    hashindex.Table[struct{}]
	collided map[groupKey]int32
	// groups holds the groups in first-seen order, in blocks of
	// groupBlock so that adding one never copies the others.
	groups   [][]group
	n        int
	visitors [][]roster.Visitor // by group, unless CountOnly
	strs     []string           // the keys' strings, by number; strs[0] is ""
	ids      map[string]int32   // the number of each of strs
	last     int32              // the group of the last visitor added, or -1: rosters list groups together
	lastKey  groupKey           // the last visitor's key, its strings as given
	hashing  groupKey           // the key find is hashing
}

const groupBlock = 1024

// New returns an empty Planner.
func New(cfg Config) *Planner {
	cfg.ReferencePrefix = cleanPrefix(cfg.ReferencePrefix)
	seed := maphash.MakeSeed()
	return &Planner{cfg: cfg, hash: func(k *groupKey) uint64 { return k.hash(seed) },
		strs: []string{""}, ids: make(map[string]int32), last: -1}
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
	// Compared with the last visitor's key rather than its group's: the
	// checker hands out the same strings for the same place, and equal
	// strings at the same address compare at once.
	if p.last < 0 || p.lastKey != k {
		if p.last < 0 || p.key(p.group(p.last)) != k {
			p.last = p.find(k, v.Zone)
		}
		p.lastKey = k
	}
	p.group(p.last).count++
	if !p.cfg.CountOnly {
		p.visitors[p.last] = append(p.visitors[p.last], *v)
	}
}

// group returns group i.
func (p *Planner) group(i int32) *group {
	return &p.groups[i/groupBlock][i%groupBlock]
}

// key returns g's key.
func (p *Planner) key(g *group) groupKey {
	return groupKey{
		ibx: p.strs[g.ibx], cage: p.strs[g.cage], cabinet: p.strs[g.cabinet], account: p.strs[g.account],
		start: g.start, end: g.end, openCabinet: g.openCabinet,
	}
}

// find returns the group of k, new if need be.
func (p *Planner) find(k groupKey, zone string) int32 {
	p.hashing = k // hashed there: a pointer to k would move k to the heap
	h := p.hash(&p.hashing)
	slot := p.index.Find(h, struct{}{})
	i, ok := slot.Index()
	if ok {
		if p.key(p.group(i)) == k {
			return i
		}
		if j, ok := p.collided[k]; ok {
			return j
		}
	}
	g := group{
		ibx: p.intern(k.ibx), cage: p.intern(k.cage), cabinet: p.intern(k.cabinet), account: p.intern(k.account),
		zone: p.intern(zone), start: k.start, end: k.end, openCabinet: k.openCabinet,
	}
	if p.n%groupBlock == 0 {
		p.groups = append(p.groups, make([]group, 0, groupBlock))
	}
	b := &p.groups[len(p.groups)-1]
	*b = append(*b, g)
	i = int32(p.n)
	p.n++
	if !p.cfg.CountOnly {
		p.visitors = append(p.visitors, nil)
	}
	if ok {
		if p.collided == nil {
			p.collided = make(map[groupKey]int32)
		}
		p.collided[p.key(&g)] = i
	} else {
		p.index.Fill(slot, h, struct{}{}, i)
	}
	return i
}

// intern returns the number of s in strs, adding a copy of s if need be:
// s may be part of a much larger string, such as a whole CSV record.
// Rosters name few IBXs, cages, cabinets and accounts, so one copy of each
// serves all groups.
func (p *Planner) intern(s string) int32 {
	if s == "" {
		return 0
	}
	if p.last >= 0 {
		// A new group mostly shares its IBX, cage and account with the
		// one before.
		l := p.group(p.last)
		for _, id := range [...]int32{l.ibx, l.cage, l.account, l.cabinet, l.zone} {
			if p.strs[id] == s {
				return id
			}
		}
	}
	if id, ok := p.ids[s]; ok {
		return id
	}
	id := int32(len(p.strs))
	c := strings.Clone(s)
	p.strs = append(p.strs, c)
	p.ids[c] = id
	return id
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
	// first[i] is the index of group i's first order.
	first := make([]int, p.n+1)
	for i := range p.n {
		g := p.group(int32(i))
		windows := max(int((g.end-g.start+int64(MaxWindow/time.Second)-1)/int64(MaxWindow/time.Second)), 1)
		if windows > 1 {
			sum.SplitWindows++
		}
		sum.Visitors += g.count
		first[i+1] = first[i] + windows*((g.count+MaxVisitors-1)/MaxVisitors)
	}
	out := make([]Order, first[p.n])
	// Orders are independent of each other: make a large plan's in two
	// halves at once.
	mid := p.n
	if len(out) >= parallelOrders {
		mid /= 2
	}
	var wg sync.WaitGroup
	if mid < p.n {
		wg.Go(func() { p.orders(mid, p.n, out[first[mid]:]) })
	}
	p.orders(0, mid, out[:first[mid]])
	wg.Wait()
	sum.Orders = len(out)
	return out, sum
}

// parallelOrders is the size of plan whose orders are made by two
// goroutines.
const parallelOrders = 4096

// orders fills out with the orders of groups from to to, in order.
func (p *Planner) orders(from, to int, out []Order) {
	refs := newReferencer(p.cfg.ReferencePrefix, p.cfg.RunID)
	var ws [][2]time.Time
	n := 0
	for i := from; i < to; i++ {
		g := p.group(int32(i))
		k := p.key(g)
		zone := p.strs[g.zone]
		windows := Split(time.Unix(k.start, 0).UTC(), time.Unix(k.end, 0).UTC(), ws[:0])
		ws = windows
		for wi, w := range windows {
			for part := 0; part*MaxVisitors < g.count; part++ {
				lo, hi := part*MaxVisitors, min((part+1)*MaxVisitors, g.count)
				o := &out[n]
				n++
				*o = Order{
					IBX: k.ibx, Cage: k.cage, Cabinet: k.cabinet, Account: k.account,
					Start: w[0], End: w[1], Zone: zone, OpenCabinet: k.openCabinet,
					Count: hi - lo,
				}
				if !p.cfg.CountOnly {
					o.Visitors = p.visitors[i][lo:hi]
				}
				o.Key = orderKey(&k, wi, part)
				o.Reference = refs.reference(o.Key)
			}
		}
	}
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
	var buf [128]byte // enough for most keys, and not on the heap
	b := buf[:0]
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
