package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backups, restores and compaction.
//
// A backup is the store as one read transaction sees it (bbolt's
// Tx.WriteTo): consistent however many changes commit while it is written.
//
// A backup is older than what happened since: orders placed after it was
// taken are planned in it, and runs made after it are missing. Restoring it
// therefore marks the store "restored" (meta "restored" → RFC 3339 time):
// every planned order of its unfinished runs becomes sending, so that
// resuming them first searches Equinix for each by its reference; and, for
// LookupAfterRestore after the restore, the orders of every new run start
// as sending too (a run made again from a roster after the restore has the
// references it had before, and its orders placed before are found).

// LookupAfterRestore is how long after a restore new runs' orders are
// searched for before they are sent.
const LookupAfterRestore = 90 * 24 * time.Hour

var keyRestored = []byte("restored")

// Backup writes a consistent copy of the store to w and returns its size.
// Changes go on while it is written; the copy holds none of those that
// committed after it began.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupFile writes a backup to path, whole or not at all: a temporary
// file beside it, fsynced, then renamed. The file has mode 0600.
func (s *Store) BackupFile(path string) (int64, error) {
	var n int64
	err := writeAtomically(path, func(f *os.File) error {
		var err error
		n, err = s.Backup(f)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("back up %s to %s: %w", s.path, path, err)
	}
	return n, nil
}

// writeAtomically writes path through a temporary file in its folder.
func writeAtomically(path string, write func(f *os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// RestoreResult says what a restore did.
type RestoreResult struct {
	// Aside is where the store that was replaced is kept ("" when there
	// was none).
	Aside string
	// InDoubt counts the planned orders of unfinished runs that are now
	// searched for before they are sent.
	InDoubt int
	// Runs counts the runs in the restored store.
	Runs int
}

// Restore replaces the store at path with the backup at backup. The backup
// is checked first (Check); a store that is in use is not replaced
// (ErrStoreBusy). The store it replaces is kept as path.before-restore-TIME.
// The restored store is marked restored at now (see LookupAfterRestore) and
// its unfinished runs' planned orders become sending.
func Restore(backup, path string, now time.Time) (RestoreResult, error) {
	var res RestoreResult
	rep, err := CheckFile(backup)
	if err != nil {
		return res, err
	}
	if !rep.OK() {
		return res, fmt.Errorf("backup %s: %s (and %d more problems)", backup, rep.Problems[0], len(rep.Problems)-1)
	}
	// Hold the current store, if any, so that nothing writes to it while
	// it is replaced. One that cannot be opened for another reason than
	// another process holding it (it is damaged: the reason to restore) is
	// replaced all the same, and kept aside.
	var cur *Store
	exists := false
	if _, err := os.Stat(path); err == nil {
		exists = true
		cur, err = Open(path, Options{})
		switch {
		case errors.Is(err, ErrStoreBusy):
			return res, err
		case err == nil:
			defer cur.Close()
		}
	}
	tmp := path + ".restoring"
	defer os.Remove(tmp)
	if err := copyFile(backup, tmp); err != nil {
		return res, fmt.Errorf("restore %s: %w", backup, err)
	}
	st, err := Open(tmp, Options{Now: func() time.Time { return now }})
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", backup, err)
	}
	res.InDoubt, res.Runs, err = st.markRestored(now)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", backup, err)
	}
	if exists {
		res.Aside = path + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		if err := os.Link(path, res.Aside); err != nil {
			return res, fmt.Errorf("keep the current store as %s: %w", res.Aside, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return res, fmt.Errorf("restore %s: %w", backup, err)
	}
	return res, syncDir(filepath.Dir(path))
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// markRestored records the restore and puts the planned orders of every
// unfinished run in doubt.
func (s *Store) markRestored(now time.Time) (inDoubt, runs int, err error) {
	all, err := s.Runs()
	if err != nil {
		return 0, 0, err
	}
	err = s.updateNow(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(keyRestored, []byte(now.UTC().Format(time.RFC3339))); err != nil {
			return err
		}
		for _, r := range all {
			n, err := putInDoubt(tx, r.ID, now.UTC())
			if err != nil {
				return err
			}
			inDoubt += n
		}
		return nil
	})
	return inDoubt, len(all), err
}

// putInDoubt makes every planned order of a run sending: its request may
// have been sent after the store's state was taken.
func putInDoubt(tx *bolt.Tx, runID string, now time.Time) (int, error) {
	rb, err := runBucket(tx, runID)
	if err != nil {
		return 0, err
	}
	run, err := getRun(tx, runID)
	if err != nil {
		return 0, err
	}
	ob := rb.Bucket(bucketOrders)
	type change struct {
		k []byte
		o Order
	}
	var changes []change
	err = ob.ForEach(func(k, v []byte) error {
		var o Order
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("order %d of run %s: %w", fromU64(k), runID, err)
		}
		if o.State == Planned {
			changes = append(changes, change{k: append([]byte(nil), k...), o: o})
		}
		return nil
	})
	if err != nil || len(changes) == 0 {
		return 0, err
	}
	for _, c := range changes {
		// UpdatedAt stays: no request of this store is in flight.
		c.o.State = Sending
		v, err := json.Marshal(&c.o)
		if err != nil {
			return 0, err
		}
		if err := ob.Put(c.k, v); err != nil {
			return 0, err
		}
	}
	bump(run.Orders, Planned, -len(changes))
	bump(run.Orders, Sending, len(changes))
	run.UpdatedAt = now
	return len(changes), putRun(tx, run)
}

// restoredAt returns when the store was restored from a backup, or the
// zero time.
func restoredAt(tx *bolt.Tx) time.Time {
	v := tx.Bucket(bucketMeta).Get(keyRestored)
	if v == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, string(v))
	return t
}

// Restored returns when the store was restored from a backup (the zero
// time if never).
func (s *Store) Restored() (time.Time, error) {
	var t time.Time
	err := s.view(func(tx *bolt.Tx) error { t = restoredAt(tx); return nil })
	return t, err
}

// afterRestore puts a new run's orders in doubt when the store was
// restored less than LookupAfterRestore ago.
func (s *Store) afterRestore(runID string) error {
	now := s.opt.Now().UTC()
	return s.updateNow(func(tx *bolt.Tx) error {
		at := restoredAt(tx)
		if at.IsZero() || now.Sub(at) > LookupAfterRestore {
			return nil
		}
		_, err := putInDoubt(tx, runID, now)
		return err
	})
}

// Compact rewrites the store into a fresh file and puts it in place of the
// old one, then closes the store: what was deleted is then gone from the
// disk too (bbolt keeps deleted data in free pages until they are reused).
// The store must not be used after Compact, whatever it returns.
func (s *Store) Compact() error {
	path := s.path
	tmp := path + ".compacting"
	defer os.Remove(tmp)
	_ = os.Remove(tmp)
	err := func() error {
		dst, err := bolt.Open(tmp, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
		if err != nil {
			return err
		}
		if err := bolt.Compact(dst, s.db, 1<<20); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	}()
	if err != nil {
		s.Close()
		return fmt.Errorf("compact %s: %w", path, err)
	}
	// The old file stays locked until the new one is in place: a process
	// waiting for it sees, once it has the lock, that the path now names
	// another file, and opens that one (see open).
	if err := os.Rename(tmp, path); err != nil {
		s.Close()
		return fmt.Errorf("compact %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// openReplaced opens the bbolt file at path. A file that was replaced
// (Compact, Restore) while this process waited for its lock is let go, and
// the file now at path opened instead, so that nothing is written to a file
// no name leads to any more.
func openReplaced(path string, timeout time.Duration) (*bolt.DB, error) {
	for range 10 {
		before, err1 := os.Stat(path)
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType})
		if err != nil {
			return nil, err
		}
		// The file opened is the one named before and after the wait for
		// the lock, or one of them was replaced in between.
		after, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || os.SameFile(before, after) {
			return db, nil
		}
		db.Close()
	}
	return nil, fmt.Errorf("%s was replaced again and again while it was opened", path)
}

// bucketPruned names the runs whose personal data was removed: run id →
// RFC 3339 time (see prune.go).
var bucketPruned = []byte("pruned")

func isPruned(tx *bolt.Tx, runID string) bool {
	b := tx.Bucket(bucketPruned)
	return b != nil && b.Get([]byte(runID)) != nil
}
