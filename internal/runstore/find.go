package runstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// RunIDError is a run id that names no run of the store, or is the start
// of more than one.
type RunIDError struct {
	ID, Path string
	// Ambiguous: more than one run starts with ID.
	Ambiguous bool
}

func (e *RunIDError) Error() string {
	if e.Ambiguous {
		return "more than one run starts with " + e.ID
	}
	return fmt.Sprintf("no run %s in %s", e.ID, e.Path)
}

// FindRun returns the run whose id is id, or the one run whose id starts
// with it (3 characters at least). An id that finds no run, or more than
// one, is a *RunIDError.
func (s *Store) FindRun(id string) (Run, error) {
	r, err := s.Run(id)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return r, err
	}
	runs, err := s.Runs()
	if err != nil {
		return r, err
	}
	var match []Run
	for _, r := range runs {
		if len(id) >= 3 && len(r.ID) >= len(id) && r.ID[:len(id)] == id {
			match = append(match, r)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return r, &RunIDError{ID: id, Path: s.Path()}
	}
	return r, &RunIDError{ID: id, Path: s.Path(), Ambiguous: true}
}

// IsStoreFile reports whether file is the store at path: the same path, or
// the same file by another name (a link).
func IsStoreFile(file, path string) bool {
	a, err1 := filepath.Abs(file)
	b, err2 := filepath.Abs(path)
	if err1 == nil && err2 == nil && a == b {
		return true
	}
	fa, err := os.Stat(file)
	if err != nil {
		return false
	}
	fb, err := os.Stat(path)
	return err == nil && os.SameFile(fa, fb)
}

// OrdersByState counts the orders of every run of the store by state.
func (s *Store) OrdersByState() (map[string]int, error) {
	runs, err := s.Runs()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range runs {
		for st, n := range r.Orders {
			out[string(st)] += n
		}
	}
	return out, nil
}
