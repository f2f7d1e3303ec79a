package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Fault is a kind of failure the sandbox can inject.
type Fault int

// The fault kinds.
const (
	// Fault429 answers 429 Too Many Requests with Retry-After: 1.
	Fault429 Fault = iota + 1
	// Fault500, Fault502 and Fault503 answer with that status; the request
	// is not performed. Fault503 also sends Retry-After: 1.
	Fault500
	Fault502
	Fault503
	// FaultSlow performs the request but answers only after Config.SlowDelay.
	FaultSlow
	// FaultReset closes the connection without answering; the request is
	// not performed.
	FaultReset
	// FaultDropCreated performs a work visit create (the order is stored)
	// and then resets the connection, so the client never learns the order
	// id. It applies to creates only; other requests never draw it.
	FaultDropCreated
)

var allFaults = []Fault{Fault429, Fault500, Fault502, Fault503, FaultSlow, FaultReset, FaultDropCreated}

var faultNames = map[Fault]string{
	Fault429: "429", Fault500: "500", Fault502: "502", Fault503: "503",
	FaultSlow: "slow", FaultReset: "reset", FaultDropCreated: "drop-created",
}

// String returns the fault's name: 429, 500, 502, 503, slow, reset or drop-created.
func (f Fault) String() string {
	if n, ok := faultNames[f]; ok {
		return n
	}
	return "none"
}

// ParseFault returns the fault named s (as String writes it).
func ParseFault(s string) (Fault, error) {
	for f, n := range faultNames {
		if n == s {
			return f, nil
		}
	}
	return 0, errors.New("unknown sandbox fault " + `"` + s + `"` + " (want 429, 500, 502, 503, slow, reset or drop-created)")
}

// ParseFaults reads a comma-separated list of fault names, such as
// "429,reset,drop-created"; "all" names every kind.
func ParseFaults(list string) ([]Fault, error) {
	var out []Fault
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "":
			continue
		case "all":
			out = append(out, allFaults...)
			continue
		}
		f, err := ParseFault(name)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func isCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/colocations/v2/orders/workVisits"
}

// FailNext queues faults for the next requests on Equinix paths (the token
// path included), one per request in the order given, before any random
// draw of Config.FaultRate. A queued FaultDropCreated that meets a request
// other than a work visit create resets the connection instead. Tests and
// demos use it to make one particular call fail.
func (s *Server) FailNext(faults ...Fault) error {
	for _, f := range faults {
		if f < Fault429 || f > FaultDropCreated {
			return fmt.Errorf("sandbox: unknown fault kind %d", int(f))
		}
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.queued = append(s.queued, faults...)
	return nil
}

// FailAll makes every request on Equinix paths meet fault f (an outage of
// 503s, resets, …) until FailAll(0) ends it; queued faults and draws wait
// until then. A FaultDropCreated outage resets requests other than creates.
// Tests use it for outages longer than a client's retries.
func (s *Server) FailAll(f Fault) error {
	if f < 0 || f > FaultDropCreated {
		return fmt.Errorf("sandbox: unknown fault kind %d", int(f))
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.down = f
	return nil
}

// pickFault returns the fault for this request, or 0: the outage's (see
// FailAll), a queued one (see FailNext), else a draw. One draw decides
// whether, one more which kind, both from the seeded source under a lock.
func (s *Server) pickFault(r *http.Request) Fault {
	create := isCreate(r)
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if f := s.down; f != 0 {
		if f == FaultDropCreated && !create {
			f = FaultReset
		}
		return f
	}
	if len(s.queued) > 0 {
		f := s.queued[0]
		s.queued = s.queued[1:]
		if f == FaultDropCreated && !create {
			f = FaultReset
		}
		return f
	}
	if s.cfg.FaultRate <= 0 {
		return 0
	}
	if s.faultRNG.Float64() >= s.cfg.FaultRate {
		return 0
	}
	kinds := s.kind
	if !create {
		kinds = make([]Fault, 0, len(s.kind))
		for _, k := range s.kind {
			if k != FaultDropCreated {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) == 0 {
		return 0
	}
	return kinds[s.faultRNG.IntN(len(kinds))]
}

// inject applies fault f and reports whether the request has been fully
// dealt with.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f {
	case 0:
		return false
	case Fault429:
		w.Header().Set("Retry-After", "1")
		s.writeStatusError(w, r, http.StatusTooManyRequests, "Too many requests. Please retry after 1 second.")
	case Fault500:
		s.writeStatusError(w, r, http.StatusInternalServerError, "The system had encountered an unexpected problem.")
	case Fault502:
		s.writeStatusError(w, r, http.StatusBadGateway, "Bad gateway.")
	case Fault503:
		w.Header().Set("Retry-After", "1")
		s.writeStatusError(w, r, http.StatusServiceUnavailable, "The service is temporarily unavailable.")
	case FaultSlow:
		if !s.delay(r.Context(), s.cfg.SlowDelay) {
			return true
		}
		return false
	case FaultReset:
		resetConn(w)
	case FaultDropCreated:
		s.mux.ServeHTTP(&discardWriter{header: http.Header{}}, r)
		if err := s.persist(); err != nil {
			s.log.Error().Err(err).Msg("sandbox: save the orders")
		}
		resetConn(w)
	}
	return true
}

// resetConn closes the client's connection without an answer: with a TCP
// reset when the connection can be taken over, else by aborting the handler
// (net/http then closes the connection).
func resetConn(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	discardBuffered(buf)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.SetDeadline(time.Now())
	_ = conn.Close()
}

func discardBuffered(buf *bufio.ReadWriter) {
	if buf != nil && buf.Reader != nil {
		_, _ = buf.Discard(buf.Reader.Buffered())
	}
}

// discardWriter is a ResponseWriter whose answer nobody reads.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
