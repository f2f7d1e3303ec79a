package sandbox

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// changes tells whether a request may change the orders held.
func changes(r *http.Request) bool {
	return r.Method == http.MethodPatch || r.Method == http.MethodPost && r.URL.Path != "/oauth2/v1/token" && r.URL.Path != "/v1/retrieve-orders"
}

// persist calls Config.Persist, one call at a time.
func (s *Server) persist() error {
	if s.cfg.Persist == nil {
		return nil
	}
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	return s.cfg.Persist(s)
}

// serveDurably serves a request that may change the orders held: its
// answer is held back until Config.Persist has saved the change, so that a
// client never hears of an order (or its id) that a crash could forget.
// When the save fails, the client is told so (500) instead.
func (s *Server) serveDurably(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Persist == nil {
		s.mux.ServeHTTP(w, r)
		return
	}
	held := &heldWriter{header: http.Header{}}
	s.mux.ServeHTTP(held, r)
	if err := s.persist(); err != nil {
		s.log.Error().Err(err).Msg("sandbox: save the orders")
		s.writeStatusError(w, r, http.StatusInternalServerError, "The sandbox could not save its orders.")
		return
	}
	for k, v := range held.header {
		w.Header()[k] = v
	}
	w.WriteHeader(held.status())
	_, _ = w.Write(held.body.Bytes())
}

// heldWriter keeps an answer until it may be sent.
type heldWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (h *heldWriter) Header() http.Header { return h.header }

func (h *heldWriter) WriteHeader(code int) {
	if h.code == 0 {
		h.code = code
	}
}

func (h *heldWriter) Write(b []byte) (int, error) {
	if h.code == 0 {
		h.code = http.StatusOK
	}
	return h.body.Write(b)
}

func (h *heldWriter) status() int {
	if h.code == 0 {
		return http.StatusOK
	}
	return h.code
}

// StateFileError is a state file the sandbox cannot start from.
type StateFileError struct {
	Path string
	Err  error
}

func (e *StateFileError) Error() string { return e.Err.Error() }
func (e *StateFileError) Unwrap() error { return e.Err }

// ConfigError is a Config the sandbox refuses.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// StartFile makes a sandbox of cfg that keeps its orders in the file
// statePath ("" for none) and serves it on a free local port. What the file
// and its journal (statePath + ".log") hold is loaded first (a file that
// cannot be read is a *StateFileError), and every change is appended to the
// journal and synced before it is answered, so a kill loses no order a
// client heard of. stop stops the server and writes the state file whole
// once more, telling warn (when set) if that fails. A refused cfg is a
// *ConfigError.
func StartFile(cfg Config, statePath string, warn func(error)) (srv *Server, url string, stop func(), err error) {
	var j *journal
	if statePath != "" {
		j = &journal{path: journalPath(statePath)}
		cfg.Persist = j.save
	}
	if srv, err = New(cfg); err != nil {
		return nil, "", nil, &ConfigError{Err: err}
	}
	if statePath != "" {
		if err := srv.LoadStateFile(statePath); err != nil {
			return nil, "", nil, &StateFileError{Path: statePath, Err: err}
		}
		if err := srv.ReplayJournal(j.path); err != nil {
			return nil, "", nil, &StateFileError{Path: j.path, Err: err}
		}
		if err := j.compactIfChanged(srv, statePath); err != nil {
			return nil, "", nil, &StateFileError{Path: statePath, Err: err}
		}
	}
	url, halt, err := srv.Start("127.0.0.1:0")
	if err != nil {
		if j != nil {
			j.close()
		}
		return nil, "", nil, err
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = halt(ctx)
		if j != nil {
			srv.persistMu.Lock()
			defer srv.persistMu.Unlock()
			if err := j.compactIfChanged(srv, statePath); err != nil && warn != nil {
				warn(err)
			}
			j.close()
		}
	}
	return srv, url, stop, nil
}
