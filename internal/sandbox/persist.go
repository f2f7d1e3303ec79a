package sandbox

import (
	"bytes"
	"net/http"
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
