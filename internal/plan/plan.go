package plan

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
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
	cfg    Config
	groups map[groupKey]*group
	order  []*group // first-seen order
}

// New returns an empty Planner.
func New(cfg Config) *Planner {
	cfg.ReferencePrefix = cleanPrefix(cfg.ReferencePrefix)
	return &Planner{cfg: cfg, groups: make(map[groupKey]*group)}
}

// Add adds one valid visitor.
func (p *Planner) Add(v *roster.Visitor) {
	k := groupKey{
		ibx: v.IBX, cage: v.Cage, cabinet: v.Cabinet, account: v.Account,
		start: v.Start.Unix(), end: v.End.Unix(), openCabinet: v.OpenCabinet,
	}
	g := p.groups[k]
	if g == nil {
		g = &group{key: k, zone: v.Zone}
		p.groups[k] = g
		p.order = append(p.order, g)
	}
	g.count++
	if !p.cfg.CountOnly {
		g.visitors = append(g.visitors, *v)
	}
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
	var out []Order
	var sum Summary
	for _, g := range p.order {
		windows := Split(time.Unix(g.key.start, 0).UTC(), time.Unix(g.key.end, 0).UTC())
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
				o.Key = fmt.Sprintf("%s/%s/%s/%d-%d/%t/w%d/p%d", g.key.cage, g.key.cabinet, g.key.account,
					g.key.start, g.key.end, g.key.openCabinet, wi, from/MaxVisitors)
				o.Reference = Reference(p.cfg.ReferencePrefix, p.cfg.RunID, o.Key)
				out = append(out, o)
			}
		}
	}
	sum.Orders = len(out)
	return out, sum
}

// Split cuts [start, end) into consecutive windows of at most 14 days.
func Split(start, end time.Time) [][2]time.Time {
	var ws [][2]time.Time
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
	sum := sha256.Sum256([]byte(runID + "\x00" + key))
	run := sha256.Sum256([]byte(runID))
	ref := refEncoding.EncodeToString(run[:5]) + "-" + refEncoding.EncodeToString(sum[:5])
	if prefix != "" {
		ref = prefix + "-" + ref
	}
	return ref
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
