package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// state is what SaveState writes: the orders held and the next order id.
type state struct {
	Version int          `json:"version"`
	NextID  int64        `json:"nextId"`
	Orders  []savedOrder `json:"orders"`
}

// savedOrder is an order with what the sandbox keeps for its answers.
type savedOrder struct {
	Order
	Description   string       `json:"description,omitempty"`
	AccountName   string       `json:"accountName,omitempty"`
	OrderingUser  string       `json:"orderingUser,omitempty"`
	TechnicalUser string       `json:"technicalUser,omitempty"`
	Technical     *contactBody `json:"technical,omitempty"`
	Closed        time.Time    `json:"closed,omitzero"`
}

// saved is what the state keeps of o.
func (o *order) saved() savedOrder {
	return savedOrder{Order: o.Order, Description: o.description, AccountName: o.accountName,
		OrderingUser: o.orderingUser, TechnicalUser: o.technicalUser, Technical: o.technical, Closed: o.closed}
}

// order is the order so keeps.
func (so *savedOrder) order() *order {
	return &order{Order: so.Order, description: so.Description, accountName: so.AccountName,
		orderingUser: so.OrderingUser, technicalUser: so.TechnicalUser, technical: so.Technical, closed: so.Closed}
}

const stateVersion = 1

// SaveState writes the orders the sandbox holds, so that a sandbox started
// later (LoadState) answers for them: an in-process sandbox that lives as
// long as one command can then resume, cancel or amend what an earlier
// command ordered.
func (s *Server) SaveState(w io.Writer) error {
	s.ordersMu.RLock()
	st := state{Version: stateVersion, NextID: s.nextID, Orders: make([]savedOrder, 0, len(s.list))}
	for _, o := range s.list {
		st.Orders = append(st.Orders, o.saved())
	}
	s.ordersMu.RUnlock()
	return json.NewEncoder(w).Encode(st)
}

// LoadState replaces the orders the sandbox holds with those SaveState
// wrote.
func (s *Server) LoadState(r io.Reader) error {
	var st state
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("sandbox state: version %d, want %d", st.Version, stateVersion)
	}
	orders := make(map[string]*order, len(st.Orders))
	list := make([]*order, 0, len(st.Orders))
	for _, so := range st.Orders {
		if !orderIDRe.MatchString(so.ID) || orders[so.ID] != nil {
			return fmt.Errorf("sandbox state: bad or repeated order id %q", so.ID)
		}
		o := so.order()
		orders[o.ID] = o
		list = append(list, o)
	}
	s.ordersMu.Lock()
	s.orders, s.list = orders, list
	s.nextID = max(s.nextID, st.NextID)
	s.ordersMu.Unlock()
	return nil
}

// openState opens a state file or journal; nil when there is none.
func openState(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox state: %w", err)
	}
	return f, nil
}

// LoadStateFile loads the orders a SaveStateFile kept in path; a path that
// does not exist leaves the server as it is.
func (s *Server) LoadStateFile(path string) error {
	f, err := openState(path)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	if err := s.LoadState(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// SaveStateFile keeps the server's orders in path, replacing the file whole
// (written aside, then renamed).
func (s *Server) SaveStateFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sandbox-*.json")
	if err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = s.SaveState(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("sandbox state %s: %w", path, err)
	}
	return nil
}
