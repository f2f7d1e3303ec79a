package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Session and sign-in limits.
const (
	sessionCookie = "wvbatch_session"
	preCSRFCookie = "wvbatch_signin"
	sessionLife   = 12 * time.Hour
	usersTTL      = 2 * time.Second

	// Sign-in attempts: at most maxUserFails failed attempts for one user
	// name and maxAddrFails from one address within failWindow.
	maxUserFails = 5
	maxAddrFails = 20
	failWindow   = 15 * time.Minute
)

// argon2id parameters (RFC 9106's second recommendation, memory cut to
// what OWASP advises for a server signing people in).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id, in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a HashPassword hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the user does not exist, so that a
// wrong name takes as long as a wrong password. It is made on first use:
// hashing costs tens of milliseconds and megabytes, which every command
// would otherwise pay at start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password of anyone")
	return h
})

// user is who a request comes from.
type user struct {
	Name string
	Role string
	SSO  bool
	csrf string
	sess string // the session id, "" for a user of the trusted header
}

// authState holds sessions, the users' cache and the sign-in throttle.
type authState struct {
	now func() time.Time
	key []byte // for the CSRF tokens of trusted-header users

	mu       sync.Mutex
	sessions map[string]runstore.Session
	users    map[string]runstore.User
	usersAt  time.Time
	fails    map[string][]time.Time
}

func newAuthState(now func() time.Time) *authState {
	key := make([]byte, 32)
	rand.Read(key)
	return &authState{now: now, key: key, sessions: map[string]runstore.Session{}, fails: map[string][]time.Time{}}
}

func (a *authState) load(ctx context.Context, h *storeHandle) error {
	return h.with(ctx, func(st *runstore.Store) error {
		now := a.now()
		if err := st.DeleteSessions(now); err != nil {
			return err
		}
		ss, err := st.Sessions()
		if err != nil {
			return err
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, s := range ss {
			a.sessions[s.ID] = s
		}
		return nil
	})
}

// lookupUser returns a user as the store has it, reading the store again
// when the cache is older than usersTTL (a `wvbatch users` command may have
// changed it).
func (s *Server) lookupUser(ctx context.Context, name string) (runstore.User, bool, error) {
	a := s.auth
	a.mu.Lock()
	fresh := a.users != nil && a.now().Sub(a.usersAt) < usersTTL
	a.mu.Unlock()
	if !fresh {
		var us []runstore.User
		if err := s.store.with(ctx, func(st *runstore.Store) (err error) { us, err = st.Users(); return err }); err != nil {
			return runstore.User{}, false, err
		}
		m := make(map[string]runstore.User, len(us))
		for _, u := range us {
			m[u.Name] = u
		}
		a.mu.Lock()
		a.users, a.usersAt = m, a.now()
		a.mu.Unlock()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[name]
	return u, ok, nil
}

// forgetUsers makes the next lookup read the store.
func (a *authState) forgetUsers() {
	a.mu.Lock()
	a.users = nil
	a.mu.Unlock()
}

func hashID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// remoteAddr is the request's peer address (never a header's say-so).
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func (s *Server) trustedProxy(r *http.Request) bool {
	a := remoteAddr(r)
	for _, p := range s.cfg.TrustedProxies {
		if a.IsValid() && p.Contains(a) {
			return true
		}
	}
	return false
}

// errNoUser means the request carries no valid sign-in.
var errNoUser = errors.New("not signed in")

// identify finds who sent the request: the trusted proxy's header, else the
// session cookie.
func (s *Server) identify(r *http.Request) (*user, error) {
	if s.cfg.AuthHeader != "" && s.trustedProxy(r) {
		if name := strings.TrimSpace(r.Header.Get(s.cfg.AuthHeader)); name != "" {
			u, ok, err := s.lookupUser(r.Context(), name)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, &noAccountError{name: name}
			}
			mac := hmac.New(sha256.New, s.auth.key)
			fmt.Fprintf(mac, "%s\x00%d", u.Name, u.Gen)
			return &user{Name: u.Name, Role: u.Role, SSO: true, csrf: hex.EncodeToString(mac.Sum(nil))}, nil
		}
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoUser
	}
	id := hashID(c.Value)
	s.auth.mu.Lock()
	ss, ok := s.auth.sessions[id]
	s.auth.mu.Unlock()
	if !ok || s.auth.now().After(ss.Expires) {
		return nil, errNoUser
	}
	u, ok, err := s.lookupUser(r.Context(), ss.User)
	if err != nil {
		return nil, err
	}
	if !ok || u.Gen != ss.Gen {
		return nil, errNoUser
	}
	return &user{Name: u.Name, Role: u.Role, csrf: ss.CSRF, sess: id}, nil
}

type noAccountError struct{ name string }

func (e *noAccountError) Error() string {
	return fmt.Sprintf("%s has no wvbatch account", e.name)
}

// handler is a page that needs a signed-in user.
type handler func(w http.ResponseWriter, r *http.Request, u *user)

// need lets a request through when it comes from a user of at least role,
// and, when it changes anything, carries that user's CSRF token.
func (s *Server) need(role string, h handler) http.Handler { return s.guard(role, h, false) }

// needUpload is need for the upload, a multipart form that checks its own
// token (its first field) before it stores anything.
func (s *Server) needUpload(role string, h handler) http.Handler { return s.guard(role, h, true) }

func (s *Server) guard(role string, h handler, multipart bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.identify(r)
		var na *noAccountError
		switch {
		case errors.As(err, &na):
			s.fail(w, r, nil, http.StatusForbidden, na.Error(),
				"ask an administrator to add you: wvbatch users add "+na.name+" --role viewer --sso")
			return
		case errors.Is(err, errNoUser):
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, http.StatusUnauthorized, "you are not signed in", "sign in again and repeat what you did")
			return
		case err != nil:
			s.storeFail(w, r, nil, err)
			return
		}
		changes := r.Method != http.MethodGet && r.Method != http.MethodHead
		isMultipart := strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/")
		if changes && !(multipart && isMultipart && s.originOK(r)) && !s.csrfOK(r, u.csrf) {
			s.fail(w, r, u, http.StatusForbidden, "the request did not carry this page's security token",
				"reload the page and try again")
			return
		}
		if roleRank(u.Role) < roleRank(role) {
			s.fail(w, r, u, http.StatusForbidden, fmt.Sprintf("%s may not do this: it needs the %s role", u.Name, role),
				"ask an administrator for the role")
			return
		}
		h(w, r, u)
	})
}

// csrfOK checks the token of a request that changes something: a form
// field or a header, and an Origin, when the browser sends one, of this
// very server.
func (s *Server) csrfOK(r *http.Request, want string) bool {
	if !s.originOK(r) {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = csrfFromForm(r)
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// originOK refuses a request whose browser says it comes from another site.
func (s *Server) originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	scheme := "http://"
	if r.TLS != nil || s.cfg.Secure {
		scheme = "https://"
	}
	return o == scheme+r.Host
}

// csrfFromForm reads the csrf field of a form. A multipart body is not
// read here: only the upload takes one, and checks its token itself.
func csrfFromForm(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return ""
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	return r.PostFormValue("csrf")
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "?", "%3F", "#", "%23", "+", "%2B", " ", "%20").Replace(s)
}

// safeNext keeps a redirect after sign-in on this server.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

type signInData struct {
	Next string
	Name string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if u, err := s.identify(r); err == nil {
		s.home(w, r, u)
		return
	}
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: token, Path: "/signin", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.Secure, MaxAge: 3600})
	s.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", CSRF: token, Data: signInData{Next: safeNext(r.URL.Query().Get("next"))}})
}

// throttled reports how long the keys must wait before another attempt.
func (a *authState) throttled(keys map[string]int) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	var wait time.Duration
	for k, limit := range keys {
		var kept []time.Time
		for _, t := range a.fails[k] {
			if now.Sub(t) < failWindow {
				kept = append(kept, t)
			}
		}
		a.fails[k] = kept
		if len(kept) >= limit {
			wait = max(wait, failWindow-now.Sub(kept[0]))
		}
	}
	return wait
}

func (a *authState) failed(keys map[string]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for k := range keys {
		a.fails[k] = append(a.fails[k], now)
	}
	// Many names tried: forget the attempts that no longer count, so that
	// the table stays small.
	if len(a.fails) > 10000 {
		for k, ts := range a.fails {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= failWindow {
				delete(a.fails, k)
			}
		}
	}
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(preCSRFCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		s.fail(w, r, nil, http.StatusForbidden, "the sign-in form is out of date or did not come from this server",
			"open the sign-in page again")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	again := func(status int, msg, hint string) {
		token := randomToken()
		http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: token, Path: "/signin", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: s.cfg.Secure, MaxAge: 3600})
		s.render(w, r, status, "signin", page{Title: "Sign in", CSRF: token, Error: msg, Hint: hint,
			Data: signInData{Next: next, Name: name}})
	}
	keys := map[string]int{"user:" + strings.ToLower(name): maxUserFails, "addr:" + remoteAddr(r).String(): maxAddrFails}
	if wait := s.auth.throttled(keys); wait > 0 {
		s.cfg.Audit.Warn().Str("audit", "signin-throttled").Str("user", name).Str("addr", remoteAddr(r).String()).Msg("sign-in refused: too many failed attempts")
		again(http.StatusTooManyRequests, "too many failed sign-in attempts",
			fmt.Sprintf("wait %d minutes and try again, or ask an administrator to set a new password", int(wait.Minutes())+1))
		return
	}
	s.auth.forgetUsers()
	u, ok, err := s.lookupUser(r.Context(), name)
	if err != nil {
		s.storeFail(w, r, nil, err)
		return
	}
	hash := dummyHash()
	if ok && u.Hash != "" {
		hash = u.Hash
	}
	if !CheckPassword(hash, password) || !ok || u.Hash == "" {
		s.auth.failed(keys)
		s.cfg.Audit.Warn().Str("audit", "signin-failed").Str("user", name).Str("addr", remoteAddr(r).String()).Msg("sign-in failed")
		again(http.StatusUnauthorized, "wrong user name or password", "check both; after 5 failed attempts sign-in waits 15 minutes")
		return
	}
	token := randomToken()
	ss := runstore.Session{ID: hashID(token), User: u.Name, Gen: u.Gen, CSRF: randomToken(), Expires: s.auth.now().Add(sessionLife)}
	if err := s.store.with(r.Context(), func(st *runstore.Store) error { return st.PutSession(ss) }); err != nil {
		s.storeFail(w, r, nil, err)
		return
	}
	s.auth.mu.Lock()
	s.auth.sessions[ss.ID] = ss
	delete(s.auth.fails, "user:"+strings.ToLower(name))
	s.auth.mu.Unlock()
	s.cfg.Audit.Info().Str("audit", "signin").Str("user", u.Name).Str("addr", remoteAddr(r).String()).Msg("signed in")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.Secure, Expires: ss.Expires})
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: "", Path: "/signin", MaxAge: -1})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, u *user) {
	if u.sess != "" {
		s.auth.mu.Lock()
		delete(s.auth.sessions, u.sess)
		s.auth.mu.Unlock()
		if err := s.store.with(r.Context(), func(st *runstore.Store) error { return st.DeleteSessions(s.auth.now(), u.sess) }); err != nil {
			s.cfg.Log.Warn().Err(err).Msg("sign-out: the session stays recorded until it expires")
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.Secure})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
