package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// changed notes that a request changed o, for the next Config.Persist (the
// journal), and tells WaitOrders and WaitFor. The caller holds ordersMu for
// writing.
func (s *Server) changed(o *order) {
	if s.cfg.Persist != nil {
		s.dirty = append(s.dirty, o)
	}
	if s.changes != nil {
		close(s.changes)
		s.changes = nil
	}
}

// takeChanges returns the orders changed since the last call, each as one
// JSON line, encoded under the lock so that no request changes them while
// they are written down.
func (s *Server) takeChanges() ([]byte, []*order, error) {
	s.ordersMu.Lock()
	defer s.ordersMu.Unlock()
	if len(s.dirty) == 0 {
		return nil, nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	seen := make(map[*order]bool, len(s.dirty))
	for _, o := range s.dirty {
		if seen[o] {
			continue
		}
		seen[o] = true
		if err := enc.Encode(o.saved()); err != nil {
			return nil, nil, err
		}
	}
	taken := s.dirty
	s.dirty = nil
	return buf.Bytes(), taken, nil
}

// giveBack puts back changes a failed save could not keep.
func (s *Server) giveBack(taken []*order) {
	s.ordersMu.Lock()
	s.dirty = append(taken, s.dirty...)
	s.ordersMu.Unlock()
}

// A journal keeps a state file's changes as they happen: each order a
// request changed is appended to the journal as one JSON line and synced
// before the request is answered, so that a change costs one short write
// however many orders the sandbox holds (writing the whole state file
// after every order made a 20,000-order run quadratic). Loading replays
// the journal over the state file; compact writes the state file whole
// and starts the journal afresh, when a command starts and ends with
// changes in the journal.
type journal struct {
	path string
	f    *os.File
	size int64
}

func journalPath(statePath string) string { return statePath + ".log" }

// save is the Config.Persist of a sandbox with a state file.
func (j *journal) save(s *Server) error {
	lines, taken, err := s.takeChanges()
	if err != nil || len(lines) == 0 {
		return err
	}
	if err := j.append(lines); err != nil {
		s.giveBack(taken)
		return fmt.Errorf("sandbox state %s: %w", j.path, err)
	}
	return nil
}

func (j *journal) append(lines []byte) error {
	if j.f == nil {
		f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			f.Close()
			return err
		}
		j.f, j.size = f, end
	}
	_, err := j.f.WriteAt(lines, j.size)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		// Leave no half line for the replay to stumble on.
		_ = j.f.Truncate(j.size)
		return err
	}
	j.size += int64(len(lines))
	return nil
}

// compact writes the server's whole state to statePath and empties the
// journal. A crash between the two leaves a journal whose lines the state
// file already holds; replaying them again changes nothing.
func (j *journal) compact(s *Server, statePath string) error {
	if err := s.SaveStateFile(statePath); err != nil {
		return err
	}
	if j.f == nil {
		err := os.Truncate(j.path, 0)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("sandbox state %s: %w", j.path, err)
	}
	j.size = 0
	return j.f.Sync()
}

// compactIfChanged compacts when the journal holds changes or the state
// file is not written yet: a command that changed nothing does not write
// the whole state again.
func (j *journal) compactIfChanged(s *Server, statePath string) error {
	size := j.size
	if j.f == nil {
		if fi, err := os.Stat(j.path); err == nil {
			size = fi.Size()
		}
	}
	if _, err := os.Stat(statePath); size == 0 && err == nil {
		return nil
	}
	return j.compact(s, statePath)
}

func (j *journal) close() {
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
}

// ReplayJournal applies the changes a journal at path holds over what the
// server has loaded: each line is an order, replacing the one of its id or
// added after the others. A last line cut short (a kill while it was being
// written, so never answered) is ignored; any other line that cannot be
// read is an error naming it.
func (s *Server) ReplayJournal(path string) error {
	f, err := openState(path)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	s.ordersMu.Lock()
	defer s.ordersMu.Unlock()
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil // an empty or unfinished last line
		}
		if err != nil {
			return fmt.Errorf("sandbox state %s: %w", path, err)
		}
		var so savedOrder
		if err := json.Unmarshal(line, &so); err != nil {
			return fmt.Errorf("sandbox state %s line %d: %w", path, n, err)
		}
		if !orderIDRe.MatchString(so.ID) {
			return fmt.Errorf("sandbox state %s line %d: bad order id %q", path, n, so.ID)
		}
		o := so.order()
		if old := s.orders[o.ID]; old != nil {
			*old = *o
			continue
		}
		s.orders[o.ID] = o
		s.list = append(s.list, o)
		if id, err := strconv.ParseInt(strings.TrimPrefix(o.ID, "1-"), 10, 64); err == nil {
			s.nextID = max(s.nextID, id)
		}
	}
}
