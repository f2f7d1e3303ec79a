package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// Visitors cannot be changed on a placed order. When an edited roster
// names a different list of visitors for a place and window that an earlier
// run ordered, `submit --replace` orders the whole new list and then
// cancels the earlier orders, each with a reason naming its replacement.
// Without --replace, submit shows what --replace would do and orders only
// the visitors not yet ordered, as before.

// bindReplace adds submit's --replace flag.
func bindReplace(cmd *cobra.Command) {
	cmd.Flags().Bool("replace", false, "for a roster edited after it was ordered: order the changed visitor lists again, then cancel the earlier orders they replace")
}

// runSubmitRoster is submit of one roster: with --replace, or when an
// earlier run ordered a different visitor list for the roster's places and
// windows, it shows the orders to replace; then it submits.
func runSubmitRoster(ctx context.Context, cmd *cobra.Command, o submitOptions, e *env) error {
	replace, _ := cmd.Flags().GetBool("replace")
	if !replace {
		if path := o.run.store.resolve(e); fileExists(path) {
			reps, res, err := previewReplacements(ctx, o, e)
			if err != nil {
				return err
			}
			if len(reps) > 0 {
				printReplacements(e.stdout, reps, false)
				fmt.Fprintf(e.stdout, "  without --replace, only visitors not yet ordered are ordered, and visitors taken off the roster keep their access;\n"+
					"  to cancel and order again: wvbatch submit %s --replace\n", o.file)
			}
			return runSubmit(ctx, o, e, res)
		}
		return runSubmit(ctx, o, e, nil)
	}
	return runSubmitReplace(ctx, o, e)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// replacement is an earlier order whose place and window the edited roster
// gives a different list of visitors.
type replacement struct {
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
}

type groupKey struct {
	cage, cabinet string
	start, end    int64
}

// replaceSettings are a replacing run's settings: a roster run's, and the
// orders it replaces.
type replaceSettings struct {
	submit.Settings
	Replaces []replacement `json:"replaces"`
}

// findReplacements compares the roster's plan with the submitted orders
// of earlier runs for the same places and windows.
func findReplacements(st *queue.Store, res *importer.Result) ([]replacement, error) {
	newKeys := map[groupKey]map[string]bool{}
	var keys []string
	for i := range res.Orders {
		o := &res.Orders[i]
		g := groupKey{o.Cage, o.Cabinet, o.Start.Unix(), o.End.Unix()}
		if newKeys[g] == nil {
			newKeys[g] = map[string]bool{}
		}
		for j := range o.Visitors {
			k := submit.VisitorKey(o, &o.Visitors[j])
			newKeys[g][k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	claims, err := st.AlreadyOrdered(keys)
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
			unhash[h] = k
		}
	}
	oldKeys := map[groupKey]map[string]bool{}
	oldOrders := map[groupKey][]queue.Order{}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range runs {
			if !yield(id) {
				return
			}
		}
	}) {
		orders, err := st.Orders(id)
		if err != nil {
			return nil, err
		}
		for _, od := range orders {
			g := groupKey{od.Cage, od.Cabinet, od.Start.Unix(), od.End.Unix()}
			if od.State != queue.Submitted || newKeys[g] == nil {
				continue
			}
			if oldKeys[g] == nil {
				oldKeys[g] = map[string]bool{}
			}
			for _, k := range od.VisitorKeys {
				if plain, ok := unhash[k]; ok {
					k = plain
				}
				if k != "" {
					oldKeys[g][k] = true
				}
			}
			oldOrders[g] = append(oldOrders[g], od)
		}
	}
	var out []replacement
	for g, olds := range oldOrders {
		added, removed := 0, 0
		for k := range newKeys[g] {
			if !oldKeys[g][k] {
				added++
			}
		}
		for k := range oldKeys[g] {
			if !newKeys[g][k] {
				removed++
			}
		}
		if added == 0 && removed == 0 {
			continue
		}
		for _, od := range olds {
			out = append(out, replacement{Run: od.RunID, Key: od.Key, OrderID: od.OrderID, Cage: od.Cage, Cabinet: od.Cabinet,
				Start: od.Start, End: od.End, Count: od.Count, Added: added, Removed: removed})
		}
	}
	slices.SortFunc(out, func(a, b replacement) int {
		return cmpStrings(a.Run+"\x00"+a.Key, b.Run+"\x00"+b.Key)
	})
	return out, nil
}

func cmpStrings(a, b string) int { return strings.Compare(a, b) }

// previewReplacements imports the roster and finds what it would replace.
func previewReplacements(ctx context.Context, o submitOptions, e *env) ([]replacement, *importer.Result, error) {
	check, err := o.roster.checkConfig(e)
	if err != nil {
		return nil, nil, err
	}
	res, err := importer.Import(ctx, importer.Options{Path: o.file, Read: o.roster.readOptions(), Check: check, Order: o.roster.orderFields()})
	if err != nil {
		return nil, nil, err
	}
	st, err := o.run.store.open(e)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	if _, err := st.Run(res.RunID); err == nil {
		return nil, res, nil // the same roster: submit resumes it
	}
	reps, err := findReplacements(st, res)
	return reps, res, err
}

func printReplacements(w io.Writer, reps []replacement, doing bool) {
	verb := "would be cancelled and ordered again (--replace)"
	if doing {
		verb = "will be ordered again, then cancelled"
	}
	fmt.Fprintf(w, "%d earlier orders hold a different visitor list than this roster for their place and window; they %s:\n", len(reps), verb)
	for _, r := range reps {
		place := r.Cage
		if r.Cabinet != "" {
			place = r.Cabinet
		}
		fmt.Fprintf(w, "  %-16s run %s  %-24s %s → %s  %d visitors; the roster adds %d, takes off %d\n",
			r.OrderID, r.Run, place, r.Start.UTC().Format("2006-01-02 15:04Z"), r.End.UTC().Format("2006-01-02 15:04Z"), r.Count, r.Added, r.Removed)
	}
}

// replacingClaims hides the claims of the orders being replaced, so that
// their visitors are ordered again.
type replacingClaims struct {
	st      *queue.Store
	replace map[[2]string]bool
}

func (c replacingClaims) AlreadyOrdered(keys []string) (map[string]queue.Claim, error) {
	m, err := c.st.AlreadyOrdered(keys)
	for k, cl := range m {
		if c.replace[[2]string{cl.RunID, cl.OrderKey}] {
			delete(m, k)
		}
	}
	return m, err
}

// replaceRunID names the replacing run of a roster's run.
func replaceRunID(runID string) string {
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

func runSubmitReplace(ctx context.Context, o submitOptions, e *env) error {
	reps, res, err := previewReplacements(ctx, o, e)
	if err != nil {
		return err
	}
	st, err := o.run.store.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	id := replaceRunID(res.RunID)
	if run, err := st.Run(id); err == nil && !o.dryRun {
		fmt.Fprintf(e.stdout, "%s: replacing run %s (%s) was recorded: carrying on; nothing is ordered or cancelled twice\n",
			o.file, run.ID, run.CreatedAt.Local().Format("2006-01-02 15:04"))
		var set replaceSettings
		_ = json.Unmarshal(run.Settings, &set)
		if err := resumeRun(ctx, e, st, run, o.run, o.roster.nowPtr(), res); err != nil && !errors.Is(err, errRowsFailed) {
			return err
		}
		return cancelReplaced(ctx, e, st, o, run.ID, set.Replaces)
	}
	if len(reps) == 0 {
		fmt.Fprintln(e.stdout, "no earlier order holds a different visitor list for this roster's places and windows: nothing to replace")
		return runSubmit(ctx, o, e, res)
	}
	printReplacements(e.stdout, reps, true)

	check, err := o.roster.checkConfig(e)
	if err != nil {
		return err
	}
	conn, err := o.run.api.connect(e, o.roster.nowPtr())
	if err != nil {
		return err
	}
	defer conn.close()
	imp := importer.Options{Path: o.file, Read: o.roster.readOptions(), Check: check, Order: o.roster.orderFields()}
	if !o.noPreflight {
		if imp.Preflight, err = conn.preflight(ctx, imp); err != nil {
			return apiErr(err)
		}
		if res, err = importer.Import(ctx, imp); err != nil {
			return apiErr(err)
		}
	}
	for _, oe := range res.OrderErrors {
		return usageErr(fmt.Errorf("%s: %s", oe.Field, oe.Message), oe.Hint)
	}
	hide := map[[2]string]bool{}
	for _, r := range reps {
		hide[[2]string{r.Run, r.Key}] = true
	}
	set := replaceSettings{Settings: submit.Settings{
		Roster: abs(o.file), Sheet: res.Sheet, HeaderRow: headerRow(res), Order: res.Order, Endpoint: conn.endpointName(),
		DateOrder: check.DateOrder.String(), Now: o.roster.now,
	}, Replaces: reps}
	r, err := submit.NewRun(res, set.Settings, replacingClaims{st: st, replace: hide})
	if err != nil {
		return err
	}
	r.Run.ID = id
	if r.Run.Settings, err = json.Marshal(set); err != nil {
		return err
	}
	// The replacing orders get references of their own: the same roster
	// submitted without --replace has orders with the plan's references.
	for i := range r.Orders {
		spec := &r.Orders[i]
		var req equinix.WorkVisitRequest
		if err := json.Unmarshal(spec.Body, &req); err != nil {
			return err
		}
		spec.Reference = replaceRef(spec.Reference, id, spec.Key)
		req.CustomerReferenceID = spec.Reference
		if spec.Body, err = json.Marshal(&req); err != nil {
			return err
		}
	}
	printPlan(e.stdout, res, r)
	if o.dryRun {
		fmt.Fprintln(e.stdout, "dry run: nothing was sent, cancelled or recorded")
		return nil
	}
	if !o.yes && isTerminal(os.Stdin) && isTerminal(e.stdout) {
		if !confirm(e, fmt.Sprintf("Place %d orders, then cancel the %d they replace? [y/N] ", len(r.Orders), len(reps))) {
			fmt.Fprintln(e.stdout, "nothing was sent")
			return nil
		}
	}
	if _, err := st.CreateRun(r.Run, r.Orders, r.Rows); err != nil {
		return err
	}
	run, err := st.Run(id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "run %s recorded in %s; it replaces %d earlier orders\n", run.ID, st.Path(), len(reps))
	if err := executeRun(ctx, e, st, run, o.run, conn, res); err != nil && !errors.Is(err, errRowsFailed) {
		fmt.Fprintf(e.stderr, "the earlier orders were not cancelled; finish with: wvbatch submit %s --replace\n", o.file)
		return err
	}
	return cancelReplacedWith(ctx, e, st, conn.client, run.ID, reps, o.file)
}

// cancelReplaced connects and cancels what a replacing run replaces.
func cancelReplaced(ctx context.Context, e *env, st *queue.Store, o submitOptions, runID string, reps []replacement) error {
	if len(reps) == 0 {
		return nil
	}
	conn, err := o.run.api.connect(e, o.roster.nowPtr())
	if err != nil {
		return err
	}
	defer conn.close()
	return cancelReplacedWith(ctx, e, st, conn.client, runID, reps, o.file)
}

// cancelReplacedWith cancels each replaced order whose place and window the
// replacing run has placed every order of, with a reason naming them; one
// whose replacement is not placed is kept. Each cancel is recorded as
// cancelling before it is asked for, and cancelled after.
func cancelReplacedWith(ctx context.Context, e *env, st *queue.Store, client *equinix.Client, runID string, reps []replacement, file string) error {
	orders, err := st.Orders(runID)
	if err != nil {
		return err
	}
	byGroup := map[groupKey][]queue.Order{}
	for _, od := range orders {
		g := groupKey{od.Cage, od.Cabinet, od.Start.Unix(), od.End.Unix()}
		byGroup[g] = append(byGroup[g], od)
	}
	failed := 0
	for _, r := range reps {
		news := byGroup[groupKey{r.Cage, r.Cabinet, r.Start.Unix(), r.End.Unix()}]
		var ids, refs []string
		placed := len(news) > 0
		for _, n := range news {
			placed = placed && n.State == queue.Submitted
			ids, refs = append(ids, n.OrderID), append(refs, n.Reference)
		}
		old, err := st.Order(r.Run, r.Key)
		if err != nil {
			return err
		}
		switch {
		case old.State == queue.Cancelled:
			fmt.Fprintf(e.stdout, "  %s already cancelled\n", r.OrderID)
			continue
		case len(news) == 0:
			fmt.Fprintf(e.stdout, "  %s cancelled? no: the edited roster has no valid visitors for its place and window any more; cancel it with 'wvbatch cancel %s' if that is meant\n", r.OrderID, r.Run)
			continue
		case !placed:
			failed++
			fmt.Fprintf(e.stdout, "  %s kept: its replacement is not placed (yet)\n", r.OrderID)
			continue
		}
		reason := fmt.Sprintf("Replaced by work visit order %s (reference %s): the visitor list was changed in %s",
			strings.Join(ids, ", "), strings.Join(refs, ", "), filepath.Base(file))
		if old.State == queue.Submitted {
			if err := st.MarkCancelling(r.Run, r.Key); err != nil {
				return err
			}
		}
		cerr := client.CancelOrder(ctx, r.OrderID, reason)
		if cerr != nil {
			if got, gerr := client.GetOrder(ctx, r.OrderID); gerr == nil && got.Status == equinix.StatusCancelled {
				cerr = nil
			}
		}
		if cerr != nil {
			failed++
			if err := st.MarkCancelFailed(r.Run, r.Key, submit.ToStored(cerr)); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "  %s not cancelled: %v\n", r.OrderID, cerr)
			continue
		}
		if err := st.MarkCancelled(r.Run, r.Key); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "  %s cancelled: %s\n", r.OrderID, reason)
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "%d earlier orders are not cancelled; run the same command again to retry\n", failed)
		return errRowsFailed
	}
	return nil
}
