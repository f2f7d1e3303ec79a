package runstore

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Pruning removes the personal data of runs that ended long ago and keeps
// what exactly-once needs: run ids, order keys and ids, references, row
// outcomes' codes, and each visitor's key with the visitor's part (name and
// company, or username) replaced by a salted hash:
//
//	n:ann\x1fsmith\x1facme|AM1:01:000111||1799650800|1801242000
//	h:<32 hex digits>|AM1:01:000111||1799650800|1801242000
//
// AlreadyOrdered looks a key up as it is and, when the store has a salt,
// in its hashed form, so a roster submitted again after a prune still finds
// its visitors ordered. The salt (meta "salt", 32 random bytes) is made by
// the first prune and never changes. Pruned runs are named in the "pruned"
// bucket (run id → RFC 3339 time): their orders have no request bodies.

var keySalt = []byte("salt")

// Removed is what a prune put in place of a text it removed.
const Removed = "(removed)"

// PruneOptions say what Prune removes.
type PruneOptions struct {
	// Before: runs that ended (finished, last changed) before it are
	// pruned.
	Before time.Time
	// DryRun counts what would be removed and changes nothing.
	DryRun bool
	// ScrubSettings, when set, returns a run's settings without personal
	// data (the store does not know their shape).
	ScrubSettings func(json.RawMessage) (json.RawMessage, error)
}

// PrunedRun is what a prune removed from one run.
type PrunedRun struct {
	RunID string
	Ended time.Time
	// Bodies counts the request bodies removed; Rows the row outcomes and
	// Orders the orders whose messages were removed; Keys the visitor keys
	// hashed (on orders and in the visitor index); Amendments the
	// amendment records cleared of contacts.
	Bodies, Rows, Orders, Keys, Amendments int
}

// Prunable returns the runs Prune would prune: finished, last changed
// before before, and not pruned yet.
func (s *Store) Prunable(before time.Time) ([]Run, error) {
	runs, err := s.Runs()
	if err != nil {
		return nil, err
	}
	var out []Run
	err = s.view(func(tx *bolt.Tx) error {
		for _, r := range runs {
			done := (r.State == RunDone || r.State == RunCancelled) && r.Orders[Planned]+r.Orders[Sending]+r.Orders[Cancelling] == 0
			if done && r.UpdatedAt.Before(before) && !isPruned(tx, r.ID) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// Prune removes the personal data of the runs Prunable names, one
// transaction per run, and returns what it removed. It does not compact
// the file: call Compact after it, so that what was removed is gone from
// the disk too.
func (s *Store) Prune(opt PruneOptions) ([]PrunedRun, error) {
	runs, err := s.Prunable(opt.Before)
	if err != nil {
		return nil, err
	}
	var out []PrunedRun
	for _, r := range runs {
		var pr PrunedRun
		fn := func(tx *bolt.Tx) error {
			salt, err := saltOf(tx, !opt.DryRun)
			if err != nil {
				return err
			}
			pr = PrunedRun{RunID: r.ID, Ended: r.UpdatedAt}
			return pruneRun(tx, r.ID, salt, opt, &pr, s.opt.Now().UTC())
		}
		if opt.DryRun {
			err = s.view(fn)
		} else {
			err = s.updateNow(fn)
		}
		if err != nil {
			return out, fmt.Errorf("prune run %s: %w", r.ID, err)
		}
		out = append(out, pr)
	}
	if !opt.DryRun {
		err = s.updateNow(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyLastPrune, []byte(s.opt.Now().UTC().Format(time.RFC3339)))
		})
	}
	return out, err
}

var keyLastPrune = []byte("lastPrune")

// LastPrune returns when Prune last ran (not as a dry run), or the zero
// time.
func (s *Store) LastPrune() (time.Time, error) {
	var t time.Time
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyLastPrune); v != nil {
			t, _ = time.Parse(time.RFC3339, string(v))
		}
		return nil
	})
	return t, err
}

// saltOf returns the store's salt, making it when create is set.
func saltOf(tx *bolt.Tx, create bool) ([]byte, error) {
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keySalt); v != nil {
		return append([]byte(nil), v...), nil
	}
	salt := make32()
	if !create {
		return salt, nil
	}
	return salt, meta.Put(keySalt, salt)
}

func make32() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// hashedKey replaces the visitor's part of a visitor key (before the
// first "|", after the endpoint prefix, see Where.Key) with a salted hash.
// Hashed keys are returned as they are.
func hashedKey(salt []byte, key string) string {
	prefix, key := splitKey(key)
	if strings.HasPrefix(key, "h:") {
		return prefix + key
	}
	who, rest, _ := strings.Cut(key, "|")
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(who))
	return prefix + "h:" + hex.EncodeToString(m.Sum(nil)[:16]) + "|" + rest
}

func pruneRun(tx *bolt.Tx, runID string, salt []byte, opt PruneOptions, pr *PrunedRun, now time.Time) error {
	rb, err := runBucket(tx, runID)
	if err != nil {
		return err
	}
	write := !opt.DryRun
	// Request bodies: visitors' names, emails and phones.
	bb := rb.Bucket(bucketBodies)
	pr.Bodies = bb.Stats().KeyN
	if write {
		if err := rb.DeleteBucket(bucketBodies); err != nil {
			return err
		}
		if _, err := rb.CreateBucket(bucketBodies); err != nil {
			return err
		}
		// The saved summary quotes row problems and order errors.
		if err := rb.Delete(keySummary); err != nil {
			return err
		}
	}
	// Orders: visitor keys hashed, error texts removed.
	var rekey []string
	ob := rb.Bucket(bucketOrders)
	if err := forEachJSON(ob, write, func(o *Order) bool {
		changed := false
		for i, k := range o.VisitorKeys {
			if k != "" && !strings.HasPrefix(PlainKey(k), "h:") {
				rekey = append(rekey, k)
				o.VisitorKeys[i] = hashedKey(salt, k)
				changed = true
			}
		}
		if scrubError(o.LastError) {
			changed = true
		}
		if changed {
			pr.Orders++
		}
		return changed
	}); err != nil {
		return err
	}
	// The visitor index: this run's claims move to their hashed keys.
	vb := tx.Bucket(bucketVisitors)
	for _, k := range rekey {
		v := vb.Get([]byte(k))
		if v == nil {
			continue
		}
		var c Claim
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		if c.RunID != runID {
			continue // a later run's claim: not this run's to prune
		}
		pr.Keys++
		if write {
			v = append([]byte(nil), v...)
			if err := vb.Delete([]byte(k)); err != nil {
				return err
			}
			if err := vb.Put([]byte(hashedKey(salt, k)), v); err != nil {
				return err
			}
		}
	}
	// Row outcomes: messages, hints and problems quote the cells.
	if err := forEachJSON(rb.Bucket(bucketRows), write, func(r *RowOutcome) bool {
		if r.Message == "" && r.Hint == "" && len(r.Problems) == 0 {
			return false
		}
		scrubTexts(&r.Message, &r.Hint, r.Problems)
		pr.Rows++
		return true
	}); err != nil {
		return err
	}
	// Amendments: notification contacts and error texts.
	if ab := rb.Bucket(bucketAmends); ab != nil {
		if err := forEachJSON(ab, write, func(a *Amendment) bool {
			pr.Amendments++
			scrubList(a.Request.Notify)
			return true
		}); err != nil {
			return err
		}
	}
	if aob := rb.Bucket(bucketAmendOrders); aob != nil {
		if err := forEachJSON(aob, write, func(a *AmendOrder) bool {
			scrubList(a.Before.Notify)
			scrubList(a.After.Notify)
			scrubList(a.Change.Notify)
			scrubError(a.Error)
			return true
		}); err != nil {
			return err
		}
	}
	if !write {
		return nil
	}
	run, err := getRun(tx, runID)
	if err != nil {
		return err
	}
	if opt.ScrubSettings != nil && len(run.Settings) > 0 {
		if run.Settings, err = opt.ScrubSettings(run.Settings); err != nil {
			return err
		}
	}
	if run.Mail != nil {
		run.Mail.To = nil
		if run.Mail.Error != "" {
			run.Mail.Error = Removed
		}
	}
	if err := putRun(tx, run); err != nil {
		return err
	}
	pb, err := tx.CreateBucketIfNotExists(bucketPruned)
	if err != nil {
		return err
	}
	return pb.Put([]byte(runID), []byte(now.Format(time.RFC3339)))
}

func scrubError(e *StoredError) bool {
	if e == nil || (e.Message == "" && len(e.Problems) == 0) {
		return false
	}
	scrubTexts(&e.Message, &e.Hint, e.Problems)
	return true
}

// scrubTexts removes what a message, its hint and its problems' reasons
// quote: a message says it was removed.
func scrubTexts(msg, hint *string, probs []Problem) {
	if *msg != "" {
		*msg = Removed
	}
	*hint = ""
	for i := range probs {
		probs[i].Reason = ""
	}
}

func scrubList(l []string) {
	for i := range l {
		l[i] = Removed
	}
}

// forEachJSON decodes every value of b as a T, lets fn change it and, when
// write is set and fn reports a change, writes it back.
func forEachJSON[T any](b *bolt.Bucket, write bool, fn func(*T) bool) error {
	type kv struct{ k, v []byte }
	var changes []kv
	err := b.ForEach(func(k, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("record %x: %w", k, err)
		}
		if !fn(&x) || !write {
			return nil
		}
		nv, err := json.Marshal(&x)
		if err != nil {
			return err
		}
		changes = append(changes, kv{append([]byte(nil), k...), nv})
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := b.Put(c.k, c.v); err != nil {
			return err
		}
	}
	return nil
}

// Pruned returns when each pruned run was pruned, by run id.
func (s *Store) Pruned() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPruned)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			t, _ := time.Parse(time.RFC3339, string(v))
			out[string(k)] = t
			return nil
		})
	})
	return out, err
}

// HashedVisitorKey returns key as a pruned run keeps it; ok is false when
// no run was ever pruned (the store has no salt yet).
func (s *Store) HashedVisitorKey(key string) (hashed string, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		if salt := tx.Bucket(bucketMeta).Get(keySalt); salt != nil {
			hashed, ok = hashedKey(salt, key), true
		}
		return nil
	})
	return hashed, ok, err
}
