package runstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged is matched by the errors about a store file that is damaged,
// cut short or not a store at all: it is never replaced nor repaired, and
// is best restored from a backup.
var ErrDamaged = errors.New("store is damaged")

// DamagedError says what is wrong with a store file.
type DamagedError struct {
	Path   string
	Detail string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("store %s is damaged: %s", e.Path, e.Detail)
}

func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// view runs fn in a read transaction, and update in a write transaction of
// its own: what a damaged file makes bbolt do (panic on an assertion, fault
// on a page past the end) or a record that no longer decodes becomes a
// *DamagedError.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	return guard(s.path, func() error { return s.db.View(fn) })
}

func (s *Store) updateNow(fn func(*bolt.Tx) error) error {
	return guard(s.path, func() error { return s.db.Update(fn) })
}

// guard runs fn, turning a panic, a memory fault or an undecodable record
// into a *DamagedError about the store at path.
func guard(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if p := recover(); p != nil {
			err = &DamagedError{Path: path, Detail: fmt.Sprintf("%v", p)}
		}
	}()
	return damaged(path, fn())
}

// damaged turns an error that means the file's content is not what the
// store wrote (a record or a number that does not decode) into a
// *DamagedError.
func damaged(path string, err error) error {
	if err == nil || errors.Is(err, ErrDamaged) {
		return err
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	var ne *strconv.NumError
	switch {
	case errors.As(err, &se), errors.As(err, &te), errors.As(err, &pe), errors.As(err, &ne),
		errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrInvalidMapping):
		return &DamagedError{Path: path, Detail: err.Error()}
	}
	return err
}

// bbolt's file header, as it writes it (go.etcd.io/bbolt, internal/common):
// each of the first two pages holds a page header then a meta record.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16
	metaSize       = 64 // up to and including the checksum
)

// checkHeader refuses a store file that exists but cannot be a sound
// store: empty, shorter than its header says, or with no valid header (not
// a store). Opening such a file would otherwise make a new store over it,
// or read past its end. A missing file is a new store.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return nil // bbolt says why it cannot open it
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	size := fi.Size()
	if size == 0 {
		return &DamagedError{Path: path, Detail: "the file is empty (0 bytes)"}
	}
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	head = head[:n]
	best := newestMeta(head)
	if best == nil {
		return &DamagedError{Path: path, Detail: fmt.Sprintf("it is not a wvbatch store, or its header is damaged (%d bytes)", size)}
	}
	if need := int64(best.pgid) * int64(best.pageSize); size < need {
		return &DamagedError{Path: path, Detail: fmt.Sprintf("the file is cut short: %d bytes of %d", size, need)}
	}
	return nil
}

type meta struct {
	pageSize uint32
	root     uint64 // the root bucket's page
	freelist uint64 // the free list's page
	pgid     uint64 // pages in use: ids below it
	txid     uint64
}

// readMeta reads a valid meta record from the page at off of head, or nil.
func readMeta(head []byte, off int) *meta {
	if off <= 0 && off != 0 || off+pageHeaderSize+metaSize > len(head) {
		return nil
	}
	b := head[off+pageHeaderSize : off+pageHeaderSize+metaSize]
	e := binary.NativeEndian
	if e.Uint32(b[0:]) != boltMagic || e.Uint32(b[4:]) != boltVersion {
		return nil
	}
	h := fnv.New64a()
	h.Write(b[:56])
	if h.Sum64() != e.Uint64(b[56:]) {
		return nil
	}
	m := &meta{pageSize: e.Uint32(b[8:]), root: e.Uint64(b[16:]), freelist: e.Uint64(b[32:]),
		pgid: e.Uint64(b[40:]), txid: e.Uint64(b[48:])}
	if m.pageSize < 512 || m.pageSize > 1<<20 {
		return nil
	}
	return m
}
