package runstore

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Defaults for Options.
const (
	LockTimeoutDefault = 1500 * time.Millisecond
	MaxBatchDefault    = 1000
)

// ErrStoreBusy is matched (errors.Is) by the error Open returns when another
// process holds the store.
var ErrStoreBusy = errors.New("store is in use by another wvbatch")

// ErrNewerSchema is matched by the error Open returns for a store written by
// a newer wvbatch.
var ErrNewerSchema = errors.New("store was written by a newer wvbatch")

// ErrNotFound is matched by errors about a run or an order the store does
// not hold.
var ErrNotFound = errors.New("not found")

// ErrRunActive is matched by the error Submit and Cancel return when the run
// is already being submitted or cancelled through the same Store.
var ErrRunActive = errors.New("run is already being worked on")

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("store is closed")

type busyError struct{ path string }

func (e *busyError) Error() string {
	return fmt.Sprintf("store %s is in use by another wvbatch", e.path)
}

func (e *busyError) Is(target error) bool { return target == ErrStoreBusy }

// Options configures a Store; the zero value means defaults.
type Options struct {
	// LockTimeout is how long Open waits for another process to let go of
	// the file before it returns ErrStoreBusy.
	LockTimeout time.Duration
	// CommitDelay is how long the committer waits for more changes after
	// the first one before it commits; 0 commits at once, and changes that
	// arrive while a commit is under way go into the next one.
	CommitDelay time.Duration
	// MaxBatch caps the changes committed in one transaction.
	MaxBatch int
	// Now is the clock used for timestamps.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	o.LockTimeout = cmp.Or(o.LockTimeout, LockTimeoutDefault)
	o.MaxBatch = cmp.Or(o.MaxBatch, MaxBatchDefault)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is an open store file. Its methods are safe for concurrent use.
type Store struct {
	path  string
	db    *bolt.DB
	opt   Options
	notes []string // what upgrading the file at Open found (UpgradeNotes)

	mu     sync.RWMutex // guards closed and sending on calls
	closed bool
	calls  chan *call
	done   chan struct{}

	createMu sync.Mutex // one CreateRun at a time

	activeMu sync.Mutex
	active   map[string]bool // runs being submitted or cancelled

	commits atomic.Int64 // group commits made, for tests

	backups *backupServer // answers backup requests; nil when it could not
}

// migration upgrades a store from the version it is at in the table to the
// next one, inside the transaction that records the new version.
type migration func(tx *bolt.Tx) error

// migrations returns the upgrades in order: migrations()[n] takes a store
// from schema n to n+1. The current schema is len(migrations()).
func migrations() []migration {
	return []migration{
		// 0 → 1: an empty file (or one from before the store had a schema)
		// gets the buckets.
		func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketRuns, bucketRun, bucketVisitors} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			return nil
		},
		// 1 → 2: the index of Equinix order ids.
		migrateOrderIDs,
		// 2 → 3: runs name their endpoint; visitor claims and order ids
		// are kept per endpoint.
		upgradeEndpoints,
	}
}

var (
	bucketMeta     = []byte("meta")
	bucketRuns     = []byte("runs")
	bucketRun      = []byte("run")
	bucketVisitors = []byte("visitors")
	bucketOrders   = []byte("orders")
	bucketKeys     = []byte("keys")
	bucketBodies   = []byte("bodies")
	bucketRows     = []byte("rows")
	keySchema      = []byte("schema")
	keyNotes       = []byte("notes")
)

// Open opens the store at path, creating it (and its directory) if needed,
// and upgrades its schema. It returns an error matching ErrStoreBusy when
// another process has the store open.
func Open(path string, opt Options) (*Store, error) {
	return open(path, opt, migrations())
}

func open(path string, opt Options, migs []migration) (*Store, error) {
	opt = opt.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	walked, err := verifyPages(path, opt.LockTimeout)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &busyError{path: path}
	}
	if err != nil {
		return nil, err
	}
	var db *bolt.DB
	err = guard(path, func() (err error) {
		db, err = openReplaced(path, opt.LockTimeout)
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &busyError{path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := reverify(path, db, walked); err != nil {
		db.Close()
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	var notes []string
	if err := guard(path, func() error {
		return db.Update(func(tx *bolt.Tx) (err error) { notes, err = migrate(tx, migs); return err })
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{
		path:  path,
		db:    db,
		opt:   opt,
		notes: notes,
		calls: make(chan *call, opt.MaxBatch),
		done:  make(chan struct{}),
	}
	go s.commitLoop()
	s.serveBackups()
	return s, nil
}

// migrate brings the store to the newest schema in one transaction, so a
// failed upgrade leaves the file as it was. It returns the notes the
// upgrade added (see addNote).
func migrate(tx *bolt.Tx, migs []migration) ([]string, error) {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return nil, err
	}
	version := 0
	if v := meta.Get(keySchema); v != nil {
		version, err = strconv.Atoi(string(v))
		if err != nil {
			return nil, fmt.Errorf("bad schema version %q: %w", v, err)
		}
	}
	if version > len(migs) {
		return nil, fmt.Errorf("schema version %d, this wvbatch knows up to %d: use a newer wvbatch: %w",
			version, len(migs), ErrNewerSchema)
	}
	if version == len(migs) {
		return nil, nil
	}
	before, err := notesOf(meta)
	if err != nil {
		return nil, err
	}
	for ; version < len(migs); version++ {
		if err := migs[version](tx); err != nil {
			return nil, fmt.Errorf("upgrade schema %d to %d: %w", version, version+1, err)
		}
	}
	notes, err := notesOf(meta)
	if err != nil {
		return nil, err
	}
	return notes[len(before):], meta.Put(keySchema, []byte(strconv.Itoa(version)))
}

// addNote keeps, in the store, something an upgrade found that its user
// should know: Open returns it in UpgradeNotes.
func addNote(tx *bolt.Tx, note string) error {
	meta := tx.Bucket(bucketMeta)
	notes, err := notesOf(meta)
	if err != nil {
		return err
	}
	b, err := json.Marshal(append(notes, note))
	if err != nil {
		return err
	}
	return meta.Put(keyNotes, b)
}

// notesOf returns the notes upgrades kept in the meta bucket.
func notesOf(meta *bolt.Bucket) ([]string, error) {
	var notes []string
	if v := meta.Get(keyNotes); v != nil {
		if err := json.Unmarshal(v, &notes); err != nil {
			return nil, fmt.Errorf("upgrade notes: %w", err)
		}
	}
	return notes, nil
}

// UpgradeNotes are what upgrading the store's file, when it was opened,
// found that its user should know (a record it could not read): none when
// the file needed no upgrade.
func (s *Store) UpgradeNotes() []string { return s.notes }

// ClaimRun marks a run as being worked on until the returned func is
// called.
func (s *Store) ClaimRun(runID string) (release func(), err error) {
	s.activeMu.Lock()
	defer s.activeMu.Unlock()
	if s.active[runID] {
		return nil, fmt.Errorf("run %s: %w", runID, ErrRunActive)
	}
	if s.active == nil {
		s.active = map[string]bool{}
	}
	s.active[runID] = true
	return func() {
		s.activeMu.Lock()
		defer s.activeMu.Unlock()
		delete(s.active, runID)
	}, nil
}

// Path returns the store's file name.
func (s *Store) Path() string { return s.path }

// Close waits for pending changes to commit and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.calls)
	s.mu.Unlock()
	s.backups.stop()
	<-s.done
	return s.db.Close()
}

// call is one change waiting for the committer.
type call struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// update runs fn in a write transaction shared with other concurrent
// changes and returns once that transaction is durable. fn may run more
// than once (after a rolled-back attempt), so it must not change anything
// outside the transaction except to overwrite its own results.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	c := &call{fn: fn, err: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.calls <- c
	s.mu.RUnlock()
	return <-c.err
}

// failedCall marks which change in a batch failed.
type failedCall struct {
	i   int
	err error
}

func (e *failedCall) Error() string { return e.err.Error() }

func (s *Store) commitLoop() {
	defer close(s.done)
	batch := make([]*call, 0, s.opt.MaxBatch)
	for c := range s.calls {
		batch = append(batch[:0], c)
		batch = s.gather(batch)
		s.commit(batch)
	}
}

// gather adds the changes already waiting (and, with a CommitDelay, those
// that arrive within it) to batch.
func (s *Store) gather(batch []*call) []*call {
	var timeout <-chan time.Time
	if s.opt.CommitDelay > 0 {
		t := time.NewTimer(s.opt.CommitDelay)
		defer t.Stop()
		timeout = t.C
	}
	for len(batch) < s.opt.MaxBatch {
		if timeout == nil {
			select {
			case c, ok := <-s.calls:
				if !ok {
					return batch
				}
				batch = append(batch, c)
				continue
			default:
				return batch
			}
		}
		select {
		case c, ok := <-s.calls:
			if !ok {
				return batch
			}
			batch = append(batch, c)
		case <-timeout:
			return batch
		}
	}
	return batch
}

func (s *Store) commit(batch []*call) {
	s.commits.Add(1)
	errs := make([]error, len(batch))
	err := s.updateNow(func(tx *bolt.Tx) error {
		for i, c := range batch {
			err := c.fn(tx)
			var r *refusal
			if errors.As(err, &r) {
				errs[i] = r.err
				continue
			}
			if err != nil {
				return &failedCall{i: i, err: err}
			}
		}
		return nil
	})
	var failed *failedCall
	if !errors.As(err, &failed) {
		for i, c := range batch {
			c.err <- cmp.Or(err, errs[i])
		}
		return
	}
	// One change failed after writing and took the batch with it: the ones
	// before it go again together, the failed one gets its error, and the
	// rest are committed as a new batch.
	if failed.i > 0 {
		s.commit(batch[:failed.i])
	}
	batch[failed.i].err <- failed.err
	if rest := batch[failed.i+1:]; len(rest) > 0 {
		s.commit(rest)
	}
}

// refusal is an error from a change that wrote nothing: the rest of its
// batch commits all the same.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }

func refuse(err error) error {
	if err == nil {
		return nil
	}
	return &refusal{err: err}
}

func u64(n int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(n))
	return b
}

func fromU64(b []byte) int { return int(binary.BigEndian.Uint64(b)) }
