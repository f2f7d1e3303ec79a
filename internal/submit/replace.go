package submit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Visitors cannot be changed on a placed order. When an edited roster
// names a different list of visitors for a place and window that an earlier
// run ordered, the roster's run can replace those orders: it orders the
// whole new list (with references of its own), and once every order of a
// place and window is placed, cancels the earlier orders there, each with a
// reason naming its replacement.

// Replacement is an earlier order whose place and window the edited roster
// gives a different list of visitors.
type Replacement struct {
	Run     string    `json:"run"`
	Key     string    `json:"key"`
	OrderID string    `json:"orderId"`
	Cage    string    `json:"cage"`
	Cabinet string    `json:"cabinet,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Count   int       `json:"count"`
	Added   int       `json:"added"`
	Removed int       `json:"removed"`
	// Invalid counts the order's visitors whose roster rows are invalid
	// now: they are not counted as taken off, and alone never make the
	// order replaced.
	Invalid int `json:"invalid,omitempty"`
}

// placeWindow is an order's place, window and options (account and open
// cabinet): orders that differ in any of them are never compared, so an
// order whose own visitors did not change is never replaced because a
// neighbour's did.
type placeWindow struct {
	cage, cabinet string
	start, end    int64
	options       string
}

func (r *Replacement) placeWindow() placeWindow {
	return placeWindow{r.Cage, r.Cabinet, r.Start.Unix(), r.End.Unix(), keyOptions(r.Key)}
}

func orderPlaceWindow(o *runstore.Order) placeWindow {
	return placeWindow{o.Cage, o.Cabinet, o.Start.Unix(), o.End.Unix(), keyOptions(o.Key)}
}

// keyOptions returns the account and open-cabinet parts of a plan's order
// key (cage/cabinet/account/window/open/wN/pN, see package plan); "" for a
// key of another shape.
func keyOptions(key string) string {
	parts := strings.Split(key, "/")
	if len(parts) < 7 {
		return ""
	}
	return parts[2] + "/" + parts[4]
}

// ReplaceSettings are a replacing run's settings: a roster run's, and the
// orders it replaces.
type ReplaceSettings struct {
	Settings
	Replaces []Replacement `json:"replaces"`
}

// FindReplacements compares a roster's plan with the submitted orders of
// earlier runs at the endpoint at for the same places and windows.
func FindReplacements(st *runstore.Store, at runstore.Where, res *importer.Result) ([]Replacement, error) {
	newKeys := map[placeWindow]map[string]bool{}
	var keys []string
	for i := range res.Orders {
		o := &res.Orders[i]
		g := placeWindow{o.Cage, o.Cabinet, o.Start.Unix(), o.End.Unix(), keyOptions(o.Key)}
		if newKeys[g] == nil {
			newKeys[g] = map[string]bool{}
		}
		for j := range o.Visitors {
			k := VisitorKey(o, &o.Visitors[j])
			newKeys[g][k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	claims, err := st.AlreadyOrdered(at, keys)
	if err != nil {
		return nil, err
	}
	runs := map[string]bool{}
	for _, c := range claims {
		runs[c.RunID] = true
	}
	// Pruned runs keep their visitors' keys hashed: compare them with the
	// roster's keys hashed the same way.
	unhash := map[string]string{}
	for _, k := range keys {
		if h, ok, err := st.HashedVisitorKey(k); err != nil {
			return nil, err
		} else if ok {
			unhash[runstore.PlainKey(h)] = k
		}
	}
	// A visitor of an earlier order whose row (the same roster, edited in
	// place, keeps its row numbers) is invalid now is not taken off: the
	// row is to be fixed, not the visitor removed.
	invalidRow := map[int]bool{}
	for _, e := range res.Errors {
		invalidRow[e.Row] = true
	}
	oldKeys := map[placeWindow]map[string]bool{}
	invalidKeys := map[placeWindow]map[string]bool{}
	oldOrders := map[placeWindow][]runstore.Order{}
	ids := make([]string, 0, len(runs))
	for id := range runs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		orders, err := st.Orders(id)
		if err != nil {
			return nil, err
		}
		for _, od := range orders {
			g := orderPlaceWindow(&od)
			if od.State != runstore.Submitted || newKeys[g] == nil {
				continue
			}
			if oldKeys[g] == nil {
				oldKeys[g], invalidKeys[g] = map[string]bool{}, map[string]bool{}
			}
			for i, k := range od.VisitorKeys {
				k = runstore.PlainKey(k)
				if plain, ok := unhash[k]; ok {
					k = plain
				}
				if k != "" {
					oldKeys[g][k] = true
					if i < len(od.Rows) && invalidRow[od.Rows[i]] && !newKeys[g][k] {
						invalidKeys[g][k] = true
					}
				}
			}
			oldOrders[g] = append(oldOrders[g], od)
		}
	}
	var out []Replacement
	for g, olds := range oldOrders {
		added, removed, invalid := 0, 0, 0
		for k := range newKeys[g] {
			if !oldKeys[g][k] {
				added++
			}
		}
		for k := range oldKeys[g] {
			switch {
			case newKeys[g][k]:
			case invalidKeys[g][k]:
				invalid++
			default:
				removed++
			}
		}
		if added == 0 && removed == 0 {
			continue
		}
		for _, od := range olds {
			out = append(out, Replacement{Run: od.RunID, Key: od.Key, OrderID: od.OrderID, Cage: od.Cage, Cabinet: od.Cabinet,
				Start: od.Start, End: od.End, Count: od.Count, Added: added, Removed: removed, Invalid: invalid})
		}
	}
	slices.SortFunc(out, func(a, b Replacement) int {
		return strings.Compare(a.Run+"\x00"+a.Key, b.Run+"\x00"+b.Key)
	})
	return out, nil
}

// PreviewReplace imports the roster (see Prepare, which takes the import
// up: the roster is read once) and finds the earlier orders a run of it
// would replace: none when the run of the same roster is recorded
// already, as it is resumed instead. The roster of a new run is imported
// with the pre-flight, and its replacements found among the rows that
// pass it, unless the run replacing them is recorded already.
func (p *Pipeline) PreviewReplace(ctx context.Context, in *Input) ([]Replacement, error) {
	in.nameEndpoint()
	prep := &Prepared{Conn: in.Conn, connect: in.Connect}
	run, err := p.identify(ctx, in, prep, true)
	if err != nil {
		return nil, err
	}
	check := run == nil && in.checks(prep)
	if check {
		replacing, err := p.lookup(ReplaceRunID(in.Import.Identity.RunID(in.Import)))
		if err != nil {
			return nil, err
		}
		check = replacing == nil
	}
	res, err := p.importRoster(ctx, existingImport(in.Import, run), prep, check)
	if err != nil {
		return nil, err
	}
	in.Imported = res
	in.previewed = &imported{res: res, existing: run, checked: check, conn: prep.Conn}
	if run != nil {
		return nil, nil
	}
	if err := p.open(); err != nil {
		return nil, err
	}
	at := in.At
	if in.Conn != nil {
		at = in.Conn.Where()
	}
	return FindReplacements(p.Store, at, res)
}

// replacingClaims hides the claims of the orders being replaced, so that
// their visitors are ordered again.
type replacingClaims struct {
	st      *runstore.Store
	replace map[[2]string]bool
}

func (c replacingClaims) AlreadyOrdered(at runstore.Where, keys []string) (map[string]runstore.Claim, error) {
	m, err := c.st.AlreadyOrdered(at, keys)
	for k, cl := range m {
		if c.replace[[2]string{cl.RunID, cl.OrderKey}] {
			delete(m, k)
		}
	}
	return m, err
}

// ReplaceRunID names the replacing run of a roster's run.
func ReplaceRunID(runID string) string {
	h := sha256.Sum256([]byte("replace\x00" + runID))
	return "x" + hex.EncodeToString(h[:])[:15]
}

// replaceRef is the reference of a replacing order: the plan's, cut to
// leave room, and -R with six characters naming the replacing run and order.
func replaceRef(ref, runID, key string) string {
	h := sha256.Sum256([]byte(runID + "\x00" + key))
	if len(ref) > 32 {
		ref = ref[:32]
	}
	return ref + "-R" + strings.ToUpper(hex.EncodeToString(h[:])[:6])
}

// PrepareReplace is Prepare for a roster that replaces earlier orders reps
// (as FindReplacements found them): the new run orders the visitors of
// those orders again, under the replacing run's id (ReplaceRunID) and
// references of its own, and records what it replaces. The replacing run
// recorded already is found as Prepared.Existing.
func (p *Pipeline) PrepareReplace(ctx context.Context, in Input, reps []Replacement) (*Prepared, error) {
	hide := map[[2]string]bool{}
	for _, r := range reps {
		hide[[2]string{r.Run, r.Key}] = true
	}
	in.Claims = replacingClaims{st: p.Store, replace: hide}
	in.New = true
	prep, err := p.Prepare(ctx, in)
	if err != nil {
		return nil, err
	}
	r := prep.New
	id := ReplaceRunID(r.Run.ID)
	set := ReplaceSettings{Settings: in.settings(prep.Import, prep.Conn), Replaces: reps}
	r.Run.ID = id
	if r.Run.Settings, err = json.Marshal(set); err != nil {
		return nil, err
	}
	// The replacing orders get references of their own: the same roster
	// submitted without replacing has orders with the plan's references.
	for i := range r.Orders {
		spec := &r.Orders[i]
		var req equinix.WorkVisitRequest
		if err := json.Unmarshal(spec.Body, &req); err != nil {
			return nil, err
		}
		spec.Reference = replaceRef(spec.Reference, id, spec.Key)
		req.CustomerReferenceID = spec.Reference
		if spec.Body, err = json.Marshal(&req); err != nil {
			return nil, err
		}
	}
	return prep, nil
}

// Replaced is what became of one replaced order.
type Replaced struct {
	Replacement
	// Outcome is one of ReplacedCancelled, ReplacedAlready, ReplacedKept,
	// ReplacedNotPlaced or ReplacedFailed.
	Outcome string
	// Reason is the reason the cancel gave Equinix; Err why it failed.
	Reason string
	Err    error
}

// Outcomes of a replaced order.
const (
	ReplacedCancelled = "cancelled"
	ReplacedAlready   = "already cancelled"
	// ReplacedKept: the edited roster has no valid visitors for its place
	// and window any more, so nothing replaces it.
	ReplacedKept = "kept"
	// ReplacedNotPlaced: its replacement is not placed (yet).
	ReplacedNotPlaced = "not placed"
	ReplacedFailed    = "failed"
)

// CancelReplaced cancels each order the replacing run runID replaces whose
// place and window the run has placed every order of, with a reason naming
// them (file is the roster); one whose replacement is not placed is kept.
// Each cancel is recorded as cancelling before it is asked for, and
// cancelled after. It returns what became of each; failed counts those to
// try again (not cancelled, or whose replacement is not placed yet).
func (p *Pipeline) CancelReplaced(ctx context.Context, client *equinix.Client, runID string, reps []Replacement, file string) (out []Replaced, failed int, err error) {
	orders, err := p.Store.Orders(runID)
	if err != nil {
		return nil, 0, err
	}
	byGroup := map[placeWindow][]runstore.Order{}
	for _, od := range orders {
		g := orderPlaceWindow(&od)
		byGroup[g] = append(byGroup[g], od)
	}
	for _, r := range reps {
		news := byGroup[r.placeWindow()]
		var ids, refs []string
		placed := len(news) > 0
		for _, n := range news {
			placed = placed && n.State == runstore.Submitted
			ids, refs = append(ids, n.OrderID), append(refs, n.Reference)
		}
		old, err := p.Store.Order(r.Run, r.Key)
		if err != nil {
			return out, failed, err
		}
		one := Replaced{Replacement: r}
		switch {
		case old.State == runstore.Cancelled:
			one.Outcome = ReplacedAlready
		case len(news) == 0:
			one.Outcome = ReplacedKept
		case !placed:
			failed++
			one.Outcome = ReplacedNotPlaced
		default:
			one.Reason = fmt.Sprintf("Replaced by work visit order %s (reference %s): the visitor list was changed in %s",
				strings.Join(ids, ", "), strings.Join(refs, ", "), filepath.Base(file))
			if err := p.cancelReplaced(ctx, client, old, &one); err != nil {
				return out, failed, err
			}
			if one.Outcome == ReplacedFailed {
				failed++
			}
		}
		out = append(out, one)
	}
	return out, failed, nil
}

// cancelReplaced cancels one replaced order, recorded before and after.
func (p *Pipeline) cancelReplaced(ctx context.Context, client *equinix.Client, old runstore.Order, one *Replaced) error {
	r := one.Replacement
	if old.State == runstore.Submitted {
		if err := p.Store.MarkCancelling(r.Run, r.Key); err != nil {
			return err
		}
	}
	cerr := client.CancelOrder(ctx, r.OrderID, one.Reason)
	if cerr != nil {
		if got, gerr := client.GetOrder(ctx, r.OrderID); gerr == nil && got.Status == equinix.StatusCancelled {
			cerr = nil
		}
	}
	if cerr != nil {
		one.Outcome, one.Err = ReplacedFailed, cerr
		return p.Store.MarkCancelFailed(r.Run, r.Key, ToStored(cerr))
	}
	one.Outcome = ReplacedCancelled
	return p.Store.MarkCancelled(r.Run, r.Key)
}
