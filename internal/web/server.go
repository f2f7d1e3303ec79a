package web

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// MaxUploadDefault bounds an uploaded roster's size.
const MaxUploadDefault = 100 << 20

// KeepUploadsDefault is how long uploads are kept.
const KeepUploadsDefault = 30 * 24 * time.Hour

// MaxEditWorkbookDefault bounds the workbooks corrected on the page.
const MaxEditWorkbookDefault = 20 << 20

// StoreWaitDefault is how long a request waits for a store another
// wvbatch holds.
const StoreWaitDefault = 10 * time.Second

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config says how the server reaches the store and the API, and whom it
// lets in.
type Config struct {
	// Open opens the run store; an error matching runstore.ErrStoreBusy is
	// retried until StoreWait runs out.
	Open      func() (*runstore.Store, error)
	StoreWait time.Duration
	// DataDir is the folder beside the store: uploads go in DataDir/uploads
	// and run reports are in DataDir/reports/<run>.
	DataDir string
	// Endpoint names where orders go: "sandbox" or the API's URL.
	Endpoint string
	// Check is the row checks' configuration (clock, date order).
	Check func() roster.CheckConfig
	// Preflight, when set, returns the pre-flight that checks an import's
	// rows and contacts against the account.
	Preflight func(ctx context.Context, imp importer.Options) (importer.Preflight, error)
	// MaxUpload bounds an upload's size (default MaxUploadDefault).
	MaxUpload int64
	// KeepUploads is how long an upload (the roster as uploaded and as
	// corrected) is kept before the server deletes it (default
	// KeepUploadsDefault); a run's own copy of its roster is the store's.
	KeepUploads time.Duration
	// MaxEditWorkbook bounds the size of a workbook whose cells can be
	// corrected on the page, which holds the whole workbook in memory to
	// write it (default MaxEditWorkbookDefault); a CSV is streamed.
	MaxEditWorkbook int64
	// AuthHeader names a header that carries the signed-in user's name; it
	// is believed only from TrustedProxies.
	AuthHeader     string
	TrustedProxies []netip.Prefix
	// Secure marks the session cookie Secure: the server speaks TLS.
	Secure bool
	// Log gets the server's log lines; Audit one line per order, cancel,
	// reschedule and user change, whatever the log level.
	Log   zerolog.Logger
	Audit zerolog.Logger
	Now   func() time.Time
	// Orderer places, cancels and reschedules orders through the run
	// pipeline; without it the page checks and corrects rosters only.
	Orderer Orderer
	// Scheduler, when set, is the scheduler daemon the server runs; its
	// jobs show on the Schedules page.
	Scheduler Scheduler
}

// Server is the web front door's http.Handler.
type Server struct {
	cfg    Config
	store  storeHandle
	pages  map[string]*template.Template
	mux    *http.ServeMux
	auth   *authState
	drafts draftCache
	runs   runs
}

// New makes a server. Sessions recorded by an earlier server on the same
// store are loaded, so a restart signs nobody out.
func New(cfg Config) (*Server, error) {
	if cfg.Open == nil || cfg.DataDir == "" {
		return nil, errors.New("web: Config.Open and Config.DataDir are required")
	}
	cfg.MaxUpload = cmp.Or(cfg.MaxUpload, MaxUploadDefault)
	cfg.MaxEditWorkbook = cmp.Or(cfg.MaxEditWorkbook, MaxEditWorkbookDefault)
	cfg.KeepUploads = cmp.Or(cfg.KeepUploads, KeepUploadsDefault)
	cfg.StoreWait = cmp.Or(cfg.StoreWait, StoreWaitDefault)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Check == nil {
		cfg.Check = func() roster.CheckConfig { return roster.CheckConfig{Now: cfg.Now} }
	}
	dummyHash() // before the first sign-in, so that it costs what every other one does
	s := &Server{cfg: cfg, store: storeHandle{open: func() (*runstore.Store, error) {
		st, err := cfg.Open()
		if err == nil {
			for _, n := range st.UpgradeNotes() {
				cfg.Log.Warn().Str("store", st.Path()).Msg(n)
			}
		}
		return st, err
	}}}
	s.store.wait = cfg.StoreWait
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.auth = newAuthState(cfg.Now)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StoreWait)
	defer cancel()
	if err := s.auth.load(ctx, &s.store); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// ServeHTTP serves every page, with the security headers every answer
// carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if s.cfg.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(w, r)
}

// Roles, from least to most allowed.
const (
	RoleViewer  = "viewer"
	RoleOrderer = "orderer"
	RoleAdmin   = "admin"
)

// ValidRole reports whether role is one of the roles.
func ValidRole(role string) bool { return roleRank(role) > 0 }

func roleRank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleOrderer:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	m.HandleFunc("GET /signin", s.signInPage)
	m.HandleFunc("POST /signin", s.signIn)
	m.Handle("POST /signout", s.need(RoleViewer, s.signOut))
	m.Handle("GET /{$}", s.need(RoleViewer, s.home))

	m.Handle("GET /upload", s.need(RoleOrderer, s.uploadPage))
	m.Handle("POST /upload", s.needUpload(RoleOrderer, s.upload))
	m.Handle("GET /drafts/{id}", s.need(RoleOrderer, s.draftPage))
	m.Handle("POST /drafts/{id}/cells", s.need(RoleOrderer, s.editCells))
	m.Handle("POST /drafts/{id}/fields", s.need(RoleOrderer, s.editFields))
	m.Handle("GET /drafts/{id}/corrected", s.need(RoleOrderer, s.downloadCorrected))
	m.Handle("POST /drafts/{id}/confirm", s.need(RoleOrderer, s.confirm))
	m.Handle("POST /drafts/{id}/order", s.need(RoleOrderer, s.order))
	m.Handle("POST /runs/{id}/again", s.need(RoleOrderer, s.draftFromRun))

	m.Handle("GET /runs", s.need(RoleViewer, s.runsPage))
	m.Handle("GET /runs/{id}", s.need(RoleViewer, s.runPage))
	m.Handle("GET /runs/{id}/files/{kind}", s.need(RoleViewer, s.runFile))
	m.Handle("GET /runs/{id}/events", s.need(RoleViewer, s.events))
	m.Handle("POST /runs/{id}/cancel", s.need(RoleOrderer, s.cancelOrders))
	m.Handle("POST /runs/{id}/reschedule", s.need(RoleOrderer, s.reschedule))
	m.Handle("POST /runs/{id}/resend", s.need(RoleOrderer, s.resend))

	m.Handle("GET /schedules", s.need(RoleViewer, s.schedulesPage))
	m.Handle("POST /schedules/{job}/run", s.need(RoleAdmin, s.runNow))
	m.Handle("GET /users", s.need(RoleAdmin, s.usersPage))
	m.Handle("POST /users", s.need(RoleAdmin, s.addUser))
	m.Handle("POST /users/{name}/remove", s.need(RoleAdmin, s.removeUser))
	m.Handle("POST /users/{name}/password", s.need(RoleAdmin, s.resetPassword))
	s.mux = m
}

// notYet answers the endpoints that place or change orders while this
// build has no way to do it from the web.
func (s *Server) notYet(w http.ResponseWriter, r *http.Request, u *user) {
	s.fail(w, r, u, http.StatusNotImplemented, "ordering from the web page is not available in this build",
		"order with the CLI: wvbatch submit ROSTER (the corrected roster downloads from the check page)")
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, u *user) {
	if roleRank(u.Role) >= roleRank(RoleOrderer) {
		http.Redirect(w, r, "/upload", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/runs", http.StatusSeeOther)
}

// page is what every template gets.
type page struct {
	Title    string
	User     *user
	CSRF     string
	Endpoint string
	// Schedules tells that the server runs the scheduler.
	Schedules bool
	Error     string
	Hint      string
	Notice    string
	Data      any
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"join":   strings.Join,
		"col":    roster.ColumnName,
		"utc":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"when":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
		"yesno":  func(b bool) string { return map[bool]string{true: "Y", false: "N"}[b] },
		"can":    func(u *user, role string) bool { return u != nil && roleRank(u.Role) >= roleRank(role) },
		"plural": func(n int, one, many string) string { return map[bool]string{true: one, false: many}[n == 1] },
		"has":    func(l []string, v string) bool { return slices.Contains(l, v) },
		"localIn": func(t time.Time, zone string) string {
			if loc, err := time.LoadLocation(zone); err == nil {
				t = t.In(loc)
			}
			return t.Format("2006-01-02 15:04 MST")
		},
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}

// render writes a page; the page is made whole before anything is sent, so
// a template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	if p.User != nil && p.CSRF == "" {
		p.CSRF = p.User.csrf
	}
	p.Endpoint, p.Schedules = s.cfg.Endpoint, s.cfg.Scheduler != nil
	var buf bytes.Buffer
	entry := "layout"
	if r.Header.Get("X-Fragment") != "" && t.Lookup("fragment") != nil {
		entry = "fragment"
	}
	if err := t.ExecuteTemplate(&buf, entry, p); err != nil {
		s.cfg.Log.Error().Err(err).Str("page", name).Msg("render")
		http.Error(w, "the page could not be made", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers with an error page: one line saying what is wrong, and a
// hint.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, u *user, status int, msg, hint string) {
	s.render(w, r, status, "error", page{Title: http.StatusText(status), User: u, Error: msg, Hint: hint})
}

// storeHandle shares one open store between the requests under way and
// closes it as soon as none needs it, so that the CLI can use the store
// between them.
type storeHandle struct {
	open func() (*runstore.Store, error)
	wait time.Duration

	mu   sync.Mutex
	st   *runstore.Store
	refs int
}

// errStoreBusy says another wvbatch held the store for all of the wait.
var errStoreBusy = errors.New("the store is in use by another wvbatch")

// with runs fn with the store open.
func (h *storeHandle) with(ctx context.Context, fn func(*runstore.Store) error) error {
	st, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer h.release()
	return fn(st)
}

func (h *storeHandle) acquire(ctx context.Context) (*runstore.Store, error) {
	deadline := time.Now().Add(h.wait)
	for {
		h.mu.Lock()
		if h.st != nil {
			h.refs++
			st := h.st
			h.mu.Unlock()
			return st, nil
		}
		st, err := h.open()
		if err == nil {
			h.st, h.refs = st, 1
			h.mu.Unlock()
			return st, nil
		}
		h.mu.Unlock()
		if !errors.Is(err, runstore.ErrStoreBusy) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %v", errStoreBusy, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (h *storeHandle) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs--
	if h.refs == 0 && h.st != nil {
		h.st.Close()
		h.st = nil
	}
}

// storeFail answers a request whose store could not be had.
func (s *Server) storeFail(w http.ResponseWriter, r *http.Request, u *user, err error) {
	if errors.Is(err, errStoreBusy) {
		s.fail(w, r, u, http.StatusServiceUnavailable, err.Error(),
			"another wvbatch (a CLI command or the scheduler) is using the store: try again in a moment")
		return
	}
	s.cfg.Log.Error().Err(err).Msg("store")
	s.fail(w, r, u, http.StatusInternalServerError, "the store could not be read: "+err.Error(), "see the server's log")
}

// ParseTrustedProxies reads the addresses of trusted reverse proxies: each
// an address range (10.0.0.0/24) or a single address.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(p))
		if err != nil {
			a, aerr := netip.ParseAddr(strings.TrimSpace(p))
			if aerr != nil {
				return nil, fmt.Errorf("%q is not an address range", p)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}
