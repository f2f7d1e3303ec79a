package sandbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/backoff"
)

// Defaults for the zero values of Config.
const (
	DefaultClientID     = "sandbox-client"
	DefaultClientSecret = "sandbox-secret"
	DefaultTokenTTL     = 3600 * time.Second
	DefaultSlowDelay    = 5 * time.Second
	// LockoutAttempts is how many successive refused token requests lock a
	// client id, as Equinix locks the account.
	LockoutAttempts = 5
)

// Config configures a Server. The zero value is a working sandbox with the
// seeded DefaultAccount, no latency and no faults.
type Config struct {
	ClientID     string // default DefaultClientID
	ClientSecret string // default DefaultClientSecret

	// Persist, when set, saves the orders held (SaveState) after every
	// request that may change them, before the request is answered: a
	// sandbox that lives inside one command keeps every order it
	// answered for, and never hands out an order id twice, through a
	// SIGKILL.
	Persist func(*Server) error

	// Account is what the credentials may order for; nil means DefaultAccount().
	Account *Account
	// Permissive accepts any well-formed cage, cabinet, account number and
	// username that the account does not list (unknown users count as
	// ACTIVE). What the account does list keeps its rules: a TERMINATED user
	// or an account with allowOrder false is still refused.
	Permissive bool

	// TokenTTL is how long a token lasts on the sandbox clock; default
	// DefaultTokenTTL. The token answer's token_timeout is TokenTTL-1s in
	// seconds, as a string, as Equinix answers "3599" for an hour.
	TokenTTL time.Duration

	// Now is the sandbox clock. Leave nil for the real clock, or set StartAt
	// instead: the clock then starts at StartAt and advances in real time.
	Now     func() time.Time
	StartAt time.Time

	// Latency delays every answer on an Equinix path, plus a uniformly
	// random extra of up to LatencyJitter.
	Latency       time.Duration
	LatencyJitter time.Duration

	// FaultRate is the chance (0..1) that a request on an Equinix path (the
	// token endpoint included) meets a fault, of a kind drawn from
	// FaultKinds (nil: all kinds). Draws come from a random source seeded
	// with Seed, so a given seed and sequence of requests gives the same
	// faults. A faulted request is not performed, except by FaultSlow and
	// FaultDropCreated.
	FaultRate  float64
	FaultKinds []Fault
	Seed       int64
	// SlowDelay is how long FaultSlow holds an answer; default DefaultSlowDelay.
	SlowDelay time.Duration

	// Logger receives one debug line per request and a warning per injected
	// fault. The zero value logs nothing.
	Logger zerolog.Logger
}

func (c *Config) validate() error {
	switch {
	case c.Now != nil && !c.StartAt.IsZero():
		return errors.New("sandbox: set Now or StartAt, not both")
	case c.TokenTTL < 0:
		return fmt.Errorf("sandbox: TokenTTL %s is negative", c.TokenTTL)
	case c.TokenTTL > 0 && c.TokenTTL < 2*time.Second:
		return fmt.Errorf("sandbox: TokenTTL %s is shorter than 2s", c.TokenTTL)
	case c.Latency < 0 || c.LatencyJitter < 0 || c.SlowDelay < 0:
		return errors.New("sandbox: Latency, LatencyJitter and SlowDelay must not be negative")
	case c.FaultRate < 0 || c.FaultRate > 1:
		return fmt.Errorf("sandbox: FaultRate %g is not between 0 and 1", c.FaultRate)
	}
	for _, k := range c.FaultKinds {
		if k < Fault429 || k > FaultDropCreated {
			return fmt.Errorf("sandbox: unknown fault kind %d", int(k))
		}
	}
	if c.Account != nil {
		if err := c.Account.Validate(); err != nil {
			return fmt.Errorf("sandbox: account: %w", err)
		}
	}
	return nil
}

// Server is the sandbox. It is an http.Handler; Start serves it on a port.
type Server struct {
	cfg Config
	now func() time.Time
	idx *index
	mux *http.ServeMux
	log zerolog.Logger

	persistMu sync.Mutex
	kind      []Fault

	authMu   sync.Mutex
	tokens   map[string]tokenInfo
	failures map[string]int // successive refused token requests by client id

	ordersMu sync.RWMutex
	orders   map[string]*order
	list     []*order // in creation order
	nextID   int64
	changes  chan struct{} // closed (and replaced) when an order is created or changed
	dirty    []*order      // changed since Config.Persist last took them (changes)

	faultMu  sync.Mutex
	faultRNG *rand.Rand
	queued   []Fault // FailNext
	down     Fault   // FailAll: every request meets it
	jitter   *rand.Rand

	corrSeq atomic.Uint64
}

// New returns a Server configured by cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.ClientID = cmp.Or(cfg.ClientID, DefaultClientID)
	cfg.ClientSecret = cmp.Or(cfg.ClientSecret, DefaultClientSecret)
	cfg.TokenTTL = cmp.Or(cfg.TokenTTL, DefaultTokenTTL)
	cfg.SlowDelay = cmp.Or(cfg.SlowDelay, DefaultSlowDelay)
	acct := DefaultAccount()
	if cfg.Account != nil {
		acct = cfg.Account.clone()
	}
	s := &Server{
		cfg:      cfg,
		now:      cfg.Now,
		idx:      newIndex(acct),
		log:      cfg.Logger,
		kind:     cfg.FaultKinds,
		tokens:   map[string]tokenInfo{},
		failures: map[string]int{},
		orders:   map[string]*order{},
		nextID:   210000000000,
		faultRNG: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		jitter:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x71773)),
	}
	if len(s.kind) == 0 {
		s.kind = allFaults
	}
	if s.now == nil {
		if start := cfg.StartAt; !start.IsZero() {
			began := time.Now()
			s.now = func() time.Time { return start.Add(time.Since(began)) }
		} else {
			s.now = time.Now
		}
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /oauth2/v1/token", s.handleToken)
	m.Handle("POST /colocations/v2/orders/workVisits", s.authed(s.handleCreate))
	m.Handle("PATCH /colocations/v2/orders/workVisits/{orderId}", s.authed(s.handlePatch))
	m.Handle("POST /colocations/v2/orders/{orderId}/cancel", s.authed(s.handleCancel))
	m.Handle("GET /colocations/v2/orders/{orderId}", s.authed(s.handleGetOrder))
	m.Handle("POST /v1/retrieve-orders", s.authed(s.handleRetrieveOrders))
	m.Handle("GET /colocations/v2/locations", s.authed(s.handleLocations))
	m.Handle("GET /access/v2/users", s.authed(s.handleUsers))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeStatusError(w, r, http.StatusNotFound, "no such resource: "+r.Method+" "+r.URL.Path)
	})
	s.mux = m
}

// ServeHTTP answers one request. Paths under /sandbox/ are the sandbox's
// own and see no latency, faults or authentication.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sandbox/orders" {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.handleDump(w, r)
		return
	}
	started := time.Now()
	if !s.delay(r.Context(), s.latency()) {
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	fault := s.pickFault(r)
	if fault != 0 {
		s.log.Warn().Str("method", r.Method).Str("path", r.URL.Path).Stringer("fault", fault).Msg("sandbox: injecting fault")
	}
	if s.inject(sw, r, fault) {
		s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).
			Stringer("fault", fault).Dur("took", time.Since(started)).Msg("sandbox request")
		return
	}
	if changes(r) {
		s.serveDurably(sw, r)
	} else {
		s.mux.ServeHTTP(sw, r)
	}
	s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).
		Dur("took", time.Since(started)).Msg("sandbox request")
}

// latency returns this request's delay.
func (s *Server) latency() time.Duration {
	d := s.cfg.Latency
	if j := s.cfg.LatencyJitter; j > 0 {
		s.faultMu.Lock()
		d += time.Duration(s.jitter.Int64N(int64(j)))
		s.faultMu.Unlock()
	}
	return d
}

// delay waits d, or until ctx ends (then it reports false).
func (s *Server) delay(ctx context.Context, d time.Duration) bool {
	return d <= 0 || backoff.Sleep(ctx, d) == nil
}

// statusWriter remembers the status written, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (FaultReset).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// isJSON reports whether the request says its body is JSON.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// Start serves s on addr ("" means 127.0.0.1:0, a free port) and returns its
// base URL, such as "http://127.0.0.1:41234", and a function that shuts the
// listener down, waiting for open requests until ctx ends.
func (s *Server) Start(addr string) (baseURL string, stop func(ctx context.Context) error, err error) {
	ln, err := net.Listen("tcp", cmp.Or(addr, "127.0.0.1:0"))
	if err != nil {
		return "", nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	stop = func(ctx context.Context) error {
		err := hs.Shutdown(ctx)
		if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		return err
	}
	return "http://" + ln.Addr().String(), stop, nil
}
