package web

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/scheduler"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// testNow keeps the samples' visits in the future.
var testNow = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

const testPassword = "correct horse battery"

type testEnv struct {
	t     *testing.T
	dir   string
	store string
	srv   *Server
	ts    *httptest.Server
	audit *bytes.Buffer
}

func newTestEnv(t *testing.T, tweak func(*Config)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "wvbatch.db")
	te := &testEnv{t: t, dir: dir, store: path, audit: &bytes.Buffer{}}
	st, err := runstore.Open(path, runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, role string }{{"vera", RoleViewer}, {"otto", RoleOrderer}, {"ada", RoleAdmin}} {
		h, err := HashPassword(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddUser(runstore.User{Name: u.name, Role: u.role, Hash: h}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddUser(runstore.User{Name: "sso.sam", Role: RoleOrderer}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	now := func() time.Time { return testNow }
	cfg := Config{
		Open: func() (*runstore.Store, error) {
			return runstore.Open(path, runstore.Options{LockTimeout: 100 * time.Millisecond})
		},
		DataDir:  dir,
		Endpoint: "sandbox",
		Check:    func() roster.CheckConfig { return roster.CheckConfig{Now: now} },
		Audit:    zerolog.New(te.audit),
		Now:      time.Now,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	te.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	te.ts = httptest.NewServer(te.srv)
	t.Cleanup(te.ts.Close)
	return te
}

// client is one browser: a cookie jar that does not follow redirects.
type client struct {
	te   *testEnv
	http *http.Client
	csrf string
}

func (te *testEnv) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{te: te, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	mainCSRF  = regexp.MustCompile(`data-csrf="([^"]*)"`)
)

func (c *client) get(path string) (*http.Response, string) {
	c.te.t.Helper()
	resp, err := c.http.Get(c.te.ts.URL + path)
	if err != nil {
		c.te.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := mainCSRF.FindStringSubmatch(string(b)); m != nil && m[1] != "" {
		c.csrf = m[1]
	}
	return resp, string(b)
}

func (c *client) post(path string, form url.Values, headers ...string) (*http.Response, string) {
	c.te.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.te.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.te.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (c *client) signIn(name, password string) *http.Response {
	c.te.t.Helper()
	_, body := c.get("/signin")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		c.te.t.Fatalf("no csrf field on the sign-in page:\n%s", body)
	}
	resp, _ := c.post("/signin", url.Values{"csrf": {m[1]}, "name": {name}, "password": {password}, "next": {"/"}})
	if resp.StatusCode == http.StatusSeeOther {
		c.get("/runs") // picks up the page's token
	}
	return resp
}

func (te *testEnv) signedIn(name string) *client {
	te.t.Helper()
	c := te.client()
	if resp := c.signIn(name, testPassword); resp.StatusCode != http.StatusSeeOther {
		te.t.Fatalf("sign in as %s: %s", name, resp.Status)
	}
	return c
}

// upload sends a file in the upload form: the token first, then the file.
func (c *client) upload(name string, content []byte, csrf string) (*http.Response, string) {
	c.te.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.te.ts.URL+"/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		c.te.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadDraft uploads a sample and returns the draft's path.
func (c *client) uploadDraft(name string, content []byte) string {
	c.te.t.Helper()
	resp, body := c.upload(name, content, c.csrf)
	if resp.StatusCode != http.StatusSeeOther {
		c.te.t.Fatalf("upload %s: %s\n%s", name, resp.Status, body)
	}
	return resp.Header.Get("Location")
}

// Every page but the sign-in page sends a stranger to sign in, or, for a
// change, refuses it.
func TestUnauthenticated(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.client()
	for _, p := range []string{"/", "/upload", "/runs", "/schedules", "/runs/r0123456789abcde/events", "/runs/r0123456789abcde", "/runs/r0123456789abcde/files/report", "/users", "/drafts/0123456789abcdef", "/drafts/0123456789abcdef/corrected"} {
		resp, _ := c.get(p)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
			t.Errorf("GET %s: %s to %q; want 303 to /signin", p, resp.Status, resp.Header.Get("Location"))
		}
	}
	for _, p := range stateChanging() {
		resp, body := c.post(p, url.Values{"csrf": {"x"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not signed in") {
			t.Errorf("POST %s: %s; want 401 saying to sign in", p, resp.Status)
		}
	}
	resp, _ := c.upload("x.csv", []byte("a,b\n"), "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("upload: %s; want 401", resp.Status)
	}
}

func stateChanging() []string {
	return []string{
		"/drafts/0123456789abcdef/cells", "/drafts/0123456789abcdef/fields",
		"/drafts/0123456789abcdef/confirm", "/drafts/0123456789abcdef/order",
		"/runs/r0123456789abcde/again", "/runs/r0123456789abcde/cancel",
		"/runs/r0123456789abcde/reschedule", "/runs/r0123456789abcde/resend",
		"/users", "/users/vera/remove", "/users/vera/password", "/schedules/dc2-ups-monthly/run",
	}
}

// A viewer sees runs but gets 403 on every endpoint that uploads, orders,
// cancels, reschedules or changes users, with a valid token.
func TestViewerForbidden(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.signedIn("vera")
	if resp, _ := c.get("/runs"); resp.StatusCode != http.StatusOK {
		t.Fatalf("viewer GET /runs: %s", resp.Status)
	}
	if c.csrf == "" {
		t.Fatal("no token on the runs page")
	}
	for _, p := range []string{"/upload", "/users", "/drafts/0123456789abcdef"} {
		if resp, _ := c.get(p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer GET %s: %s; want 403", p, resp.Status)
		}
	}
	for _, p := range stateChanging() {
		if resp, body := c.post(p, url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "needs the") {
			t.Errorf("viewer POST %s: %s; want 403 naming the role", p, resp.Status)
		}
	}
	if resp, _ := c.upload("contractors.csv", sample(t, "contractors.csv"), c.csrf); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer upload: %s; want 403", resp.Status)
	}
	// An orderer may not manage users.
	o := te.signedIn("otto")
	for _, p := range []string{"/users", "/users/vera/remove", "/users/vera/password"} {
		if resp, _ := o.post(p, url.Values{"csrf": {o.csrf}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("orderer POST %s: %s; want 403", p, resp.Status)
		}
	}
}

// A change without the page's token, or with another session's, or from
// another site, is refused with 403 and changes nothing.
func TestCSRF(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.signedIn("otto")
	draft := c.uploadDraft("contractors-with-errors.csv", sample(t, "contractors-with-errors.csv"))
	other := te.signedIn("ada")
	for _, p := range append(stateChanging(), draft+"/cells", draft+"/fields", "/signout") {
		for name, form := range map[string]url.Values{"none": {}, "wrong": {"csrf": {"nope"}}, "another session's": {"csrf": {other.csrf}}} {
			if resp, _ := c.post(p, form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %s token: %s; want 403", p, name, resp.Status)
			}
		}
	}
	if resp, _ := c.post(draft+"/cells", url.Values{"csrf": {c.csrf}, "row": {"6"}, "c7": {"David"}}, "Origin", "http://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST from another origin: %s; want 403", resp.Status)
	}
	if resp, _ := c.upload("contractors.csv", sample(t, "contractors.csv"), ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("upload without token: %s; want 403", resp.Status)
	}
	if resp, _ := c.upload("contractors.csv", sample(t, "contractors.csv"), other.csrf); resp.StatusCode != http.StatusForbidden {
		t.Errorf("upload with another session's token: %s; want 403", resp.Status)
	}
	_, body := c.get(draft)
	if !strings.Contains(body, `value="D4vid"`) {
		t.Error("a refused change was applied")
	}
	// The sign-in form carries its own token.
	resp, _ := te.client().post("/signin", url.Values{"name": {"otto"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: %s; want 403", resp.Status)
	}
}

func TestSignInSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		te := newTestEnv(t, func(c *Config) { c.Secure = secure })
		c := te.client()
		_, body := c.get("/signin")
		tok := csrfInput.FindStringSubmatch(body)[1]
		resp, _ := c.post("/signin", url.Values{"csrf": {tok}, "name": {"otto"}, "password": {testPassword}, "next": {"//evil.example/"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("sign in: %s to %q; want 303 to / (never off the server)", resp.Status, resp.Header.Get("Location"))
		}
		var sc *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie {
				sc = ck
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure != secure {
			t.Errorf("secure=%v: session cookie %+v; want HttpOnly, SameSite=Strict, Secure=%v", secure, sc, secure)
		}
		// The store holds a hash of the cookie, never the cookie.
		raw, _ := os.ReadFile(te.store)
		if bytes.Contains(raw, []byte(sc.Value)) || bytes.Contains(raw, []byte(testPassword)) {
			t.Error("the store holds the session cookie or the password")
		}
		if strings.Contains(te.audit.String(), testPassword) {
			t.Error("the audit log holds the password")
		}
		// Sign out ends the session.
		c.get("/runs")
		c.post("/signout", url.Values{"csrf": {c.csrf}})
		if resp, _ := c.get("/runs"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after sign-out: %s; want a redirect to sign in", resp.Status)
		}
	}
}

// Sessions survive a server restart on the same store; a password change
// from the CLI ends them.
func TestSessionsSurviveRestart(t *testing.T) {
	var later atomic.Int64 // how far the servers' clock is ahead of the real one
	te := newTestEnv(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	})
	c := te.signedIn("otto")
	srv2, err := New(te.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(srv2)
	defer ts2.Close()
	u, _ := url.Parse(te.ts.URL)
	u2, _ := url.Parse(ts2.URL)
	c.http.Jar.SetCookies(u2, c.http.Jar.Cookies(u))
	resp, err := c.http.Get(ts2.URL + "/runs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after a restart: %s; want the session to hold", resp.Status)
	}
	st, err := runstore.Open(te.store, runstore.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := HashPassword("another good password")
	if _, err := st.UpdateUser("otto", func(u *runstore.User) error { u.Hash = h; return nil }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	later.Store(int64(usersTTL)) // the users read before the change are stale
	if resp, _ := c.get("/runs"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after a password change: %s; want the session ended", resp.Status)
	}
}

// Failed sign-ins are throttled per user name and per address; the right
// password does not get through while the user is throttled.
func TestSignInThrottle(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.client()
	for i := 0; i < maxUserFails; i++ {
		if resp := c.signIn("otto", "wrong password!"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %s; want 401", i+1, resp.Status)
		}
	}
	resp := c.signIn("otto", testPassword)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %s; want 429", maxUserFails, resp.Status)
	}
	// Another user from the same address is still let in, until the
	// address's own limit.
	if resp := c.signIn("ada", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another user: %s; want 303", resp.Status)
	}
	d := te.client()
	for i := 0; i < maxAddrFails; i++ {
		d.signIn(fmt.Sprintf("nobody%d", i), "wrong password!")
	}
	if resp := d.signIn("vera", testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after %d failures from one address: %s; want 429", maxAddrFails, resp.Status)
	}
	if !strings.Contains(te.audit.String(), `"audit":"signin-throttled"`) {
		t.Error("no audit line for the throttled sign-in")
	}
}

// The proxy's header signs a user in only when the request comes from a
// trusted proxy.
func TestAuthHeader(t *testing.T) {
	for _, tc := range []struct {
		proxy string
		want  int
	}{{"127.0.0.1/32", http.StatusOK}, {"10.0.0.0/8", http.StatusSeeOther}} {
		te := newTestEnv(t, func(c *Config) {
			c.AuthHeader = "X-Forwarded-User"
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(tc.proxy)}
		})
		req, _ := http.NewRequest(http.MethodGet, te.ts.URL+"/upload", nil)
		req.Header.Set("X-Forwarded-User", "sso.sam")
		resp, err := te.client().http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("trusted %s: %s; want %d", tc.proxy, resp.Status, tc.want)
		}
		if tc.want != http.StatusOK {
			continue
		}
		req.Header.Set("X-Forwarded-User", "mallory")
		resp, _ = te.client().http.Do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("unknown user through the proxy: %s; want 403", resp.Status)
		}
		// A header user without a password cannot sign in with the form.
		if resp := te.client().signIn("sso.sam", ""); resp.StatusCode == http.StatusSeeOther {
			t.Error("a header-only user signed in with an empty password")
		}
	}
}

var invalidCount = regexp.MustCompile(`id="n-invalid">(\d+)<`)

func count(t *testing.T, body string) int {
	t.Helper()
	m := invalidCount.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no invalid count in:\n%s", body)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// Upload, check, correct two cells, download: the check is the CLI's, each
// correction is checked with the whole roster (a duplicate too), and the
// corrected roster keeps the upload's columns and rows.
func TestUploadCheckCorrect(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.signedIn("otto")
	raw := sample(t, "contractors-with-errors.csv")
	draft := c.uploadDraft("contractors-with-errors.csv", raw)
	_, body := c.get(draft)

	// The same result as `wvbatch validate`.
	src := filepath.Join(t.TempDir(), "contractors-with-errors.csv")
	os.WriteFile(src, raw, 0o600)
	want, err := importer.Import(context.Background(), importer.Options{Path: src, Check: roster.CheckConfig{Now: func() time.Time { return testNow }}})
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, body); got != want.InvalidRows {
		t.Fatalf("invalid rows %d, validate says %d", got, want.InvalidRows)
	}
	for _, e := range want.Errors[:5] {
		if !strings.Contains(body, html.EscapeString(e.Message)) {
			t.Errorf("the check page lacks %q", e.Message)
		}
	}
	if !strings.Contains(body, `<td class="bad"><input form="f-6" name="c7" value="D4vid"`) {
		t.Error("row 6's First Name is not a highlighted cell")
	}
	if !strings.Contains(body, "Notes") {
		t.Error("the grid lacks the roster's own Notes column")
	}

	// Fix row 6's first name through the page's script path (a fragment).
	resp, frag := c.post(draft+"/cells", url.Values{"row": {"6"}, "c7": {"David"}}, "X-CSRF-Token", c.csrf, "X-Fragment", "1")
	if resp.StatusCode != http.StatusOK || strings.Contains(frag, "<html") {
		t.Fatalf("edit: %s; want the check fragment", resp.Status)
	}
	if got := count(t, frag); got != want.InvalidRows-1 {
		t.Errorf("after fixing row 6: %d invalid; want %d", got, want.InvalidRows-1)
	}
	if strings.Contains(frag, `id="row-6"`) {
		t.Error("row 6 is still listed with problems")
	}
	// A correction that is the first request of a restarted server (no
	// check cached) answers with the check after it.
	srv2, err := New(te.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	te.ts.Config.Handler = srv2
	resp, frag = c.post(draft+"/cells", url.Values{"row": {"8"}, "c10": {"jdoe.contractor"}}, "X-CSRF-Token", c.csrf, "X-Fragment", "1")
	if got := count(t, frag); resp.StatusCode != http.StatusOK || got != want.InvalidRows-2 {
		t.Errorf("after fixing row 8 on a restarted server: %s, %d invalid; want %d", resp.Status, got, want.InvalidRows-2)
	}
	c.post(draft+"/cells", url.Values{"csrf": {c.csrf}, "row": {"8"}, "c10": {"jdoe"}})
	// Make row 3 a duplicate of row 2 (the same visitor twice): the check
	// of the whole roster sees it.
	resp, _ = c.post(draft+"/cells", url.Values{"csrf": {c.csrf}, "row": {"3"}, "c7": {"Anna"}, "c8": {"de Vries"}, "c11": {"anna.devries@voltcare.example"}, "c12": {"+31"}, "c13": {"612 345 678"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form edit: %s; want 303", resp.Status)
	}
	_, body = c.get(draft)
	if got := count(t, body); got != want.InvalidRows {
		t.Errorf("after making row 3 a duplicate: %d invalid; want %d", got, want.InvalidRows)
	}
	if !strings.Contains(body, `id="row-3"`) || !strings.Contains(body, "Anna de Vries is already on row 2") {
		t.Error("the duplicate row 3 is not flagged")
	}
	// Fix row 4's missing cage.
	c.post(draft+"/cells", url.Values{"csrf": {c.csrf}, "row": {"4"}, "c1": {"AM1:01:000111"}})

	resp, err = c.http.Get(te.ts.URL + draft + "/corrected")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename=contractors-with-errors.csv`) {
		t.Fatalf("download: %s %q", resp.Status, resp.Header.Get("Content-Disposition"))
	}
	// Row by row: the corrected cells changed, every other cell is the
	// upload's, on the same row.
	corr := filepath.Join(t.TempDir(), "corrected.csv")
	os.WriteFile(corr, got, 0o600)
	checkCorrected(t, src, corr, map[string]string{"6/7": "David", "3/7": "Anna", "3/8": "de Vries",
		"3/11": "anna.devries@voltcare.example", "3/12": "+31", "3/13": "612 345 678", "4/1": "AM1:01:000111"})
	// Another orderer cannot see this draft.
	o2 := te.signedIn("ada")
	if resp, _ := o2.get(draft); resp.StatusCode != http.StatusOK {
		t.Errorf("admin GET draft: %s; want 200", resp.Status)
	}
}

// checkCorrected compares a corrected roster with its upload row by row:
// the cells of changed ("row/col") hold their new text, every other cell is
// the upload's, on the same row.
func checkCorrected(t *testing.T, upload, corrected string, changed map[string]string) {
	t.Helper()
	all := map[int]bool{}
	for i := 1; i <= 200; i++ {
		all[i] = true
	}
	before, err := roster.RowCells(upload, roster.ReadOptions{}, all)
	if err != nil {
		t.Fatal(err)
	}
	after, err := roster.RowCells(corrected, roster.ReadOptions{}, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(after) {
		t.Fatalf("%d rows before, %d after", len(before), len(after))
	}
	for row, cells := range before {
		for col, v := range cells {
			if w, ok := changed[fmt.Sprintf("%d/%d", row, col)]; ok {
				v = w
			}
			if after[row][col] != v {
				t.Errorf("corrected roster row %d, column %s: %q; want %q", row, roster.ColumnName(col), after[row][col], v)
			}
		}
	}
}

// A workbook keeps its Order sheet, which fills the order form; the
// corrected download keeps every sheet.
func TestUploadWorkbookOrderSheet(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.signedIn("otto")
	draft := c.uploadDraft("contractors.xlsx", sample(t, "contractors.xlsx"))
	_, body := c.get(draft)
	of, ok, err := roster.ReadOrderSheet(filepath.Join("..", "..", "samples", "contractors.xlsx"), roster.ReadOptions{})
	if err != nil || !ok {
		t.Fatalf("sample's Order sheet: %v %v", ok, err)
	}
	if !strings.Contains(body, `name="description" value="`+html.EscapeString(of.Description)+`"`) {
		t.Errorf("the order form lacks the Order sheet's description %q", of.Description)
	}
	if resp, _ := c.post(draft+"/cells", url.Values{"csrf": {c.csrf}, "row": {"2"}, "c7": {"Anneke"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %s", resp.Status)
	}
	resp, err := c.http.Get(te.ts.URL + draft + "/corrected")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	orig, _ := excelize.OpenFile(filepath.Join("..", "..", "samples", "contractors.xlsx"))
	defer orig.Close()
	if fmt.Sprint(f.GetSheetList()) != fmt.Sprint(orig.GetSheetList()) {
		t.Errorf("sheets %v; want %v", f.GetSheetList(), orig.GetSheetList())
	}
	if v, _ := f.GetCellValue(roster.TemplateVisitorsSheet, "H2"); v != "Anneke" {
		t.Errorf("H2 %q; want Anneke", v)
	}
	ov, _ := orig.GetCellValue(roster.TemplateVisitorsSheet, "I2")
	if v, _ := f.GetCellValue(roster.TemplateVisitorsSheet, "I2"); v != ov {
		t.Errorf("I2 %q; want %q (unchanged)", v, ov)
	}
	// A workbook too large to hold in memory is corrected in Excel.
	te.srv.cfg.MaxEditWorkbook = 1000
	if resp, body := c.post(draft+"/cells", url.Values{"csrf": {c.csrf}, "row": {"2"}, "c7": {"Anna"}}); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too large to correct on the page") {
		t.Errorf("edit of a large workbook: %s %s", resp.Status, errorLine(body))
	}
	te.srv.cfg.MaxEditWorkbook = MaxEditWorkbookDefault
	// The form's fields win over the sheet.
	c.post(draft+"/fields", url.Values{"csrf": {c.csrf}, "description": {"Battery swap, hall 2"}, "reference_prefix": {"BAT"}})
	_, body = c.get(draft)
	if !strings.Contains(body, `value="Battery swap, hall 2"`) || !strings.Contains(body, "BAT-") {
		t.Error("the order form's fields were not used")
	}
}

// Uploads that are too big, not rosters, zip bombs or named like paths get
// one clear error and leave nothing behind.
func TestUploadRefused(t *testing.T) {
	te := newTestEnv(t, func(c *Config) { c.MaxUpload = 1 << 20 })
	c := te.signedIn("otto")
	big := bytes.Repeat([]byte("AM1,AM1:01:000111\n"), (2<<20)/18)
	bomb := resizePart(t, sample(t, "contractors.xlsx"), "xl/worksheets/sheet1.xml", 5<<30)
	for _, tc := range []struct {
		name    string
		content []byte
		status  int
		want    string
	}{
		{"big.csv", big, http.StatusRequestEntityTooLarge, "is larger than the upload limit of 1 MB"},
		{"../../etc/cron.d/evil.csv", sample(t, "contractors.csv"), http.StatusBadRequest, "is a path, not a file name: refused"},
		{`..\..\evil.csv`, sample(t, "contractors.csv"), http.StatusBadRequest, "is a path, not a file name: refused"},
		{"..", sample(t, "contractors.csv"), http.StatusBadRequest, "refused"},
		{"roster.exe", sample(t, "contractors.csv"), http.StatusBadRequest, "is not an .xlsx or .csv file"},
		{"report.csv", []byte("%PDF-1.7\n%binary\x00\x01\x02"), http.StatusUnprocessableEntity, "report.csv: not a spreadsheet"},
		{"bomb.xlsx", bomb, http.StatusUnprocessableEntity, "the workbook is too large: it unpacks to more than 4 GB"},
		{"empty.csv", []byte{}, http.StatusUnprocessableEntity, "the file is empty"},
		{"header.csv", []byte("Cage,First Name,Last Name,Company,Visit Start,Visit End\n"), http.StatusUnprocessableEntity, "no visitor rows"},
	} {
		resp, body := c.upload(tc.name, tc.content, c.csrf)
		if resp.StatusCode != tc.status || !strings.Contains(body, html.EscapeString(tc.want)) || !strings.Contains(body, "hint: ") {
			t.Errorf("%s: %s; want %d with %q and a hint\n%s", tc.name, resp.Status, tc.status, tc.want, errorLine(body))
		}
		if strings.Contains(body, te.dir) {
			t.Errorf("%s: the answer names the server's folder", tc.name)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(te.dir, "uploads"))
	if len(entries) != 0 {
		t.Errorf("refused uploads left %d folders", len(entries))
	}
	if _, err := os.Stat(filepath.Join(te.dir, "..", "etc")); err == nil {
		t.Error("a path in a file name reached the disk")
	}
}

func errorLine(body string) string {
	if i := strings.Index(body, `id="error-message"`); i >= 0 {
		return body[i:min(len(body), i+300)]
	}
	return body[:min(len(body), 300)]
}

// resizePart rewrites a workbook so that its zip directory says part
// unpacks to size bytes, whatever it holds: a zip bomb's first sign.
func resizePart(t *testing.T, book []byte, part string, size uint64) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		fh := f.FileHeader
		if f.Name == part {
			fh.UncompressedSize64 = size
		}
		w, err := zw.CreateRaw(&fh)
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := f.OpenRaw()
		io.Copy(w, rc)
	}
	zw.Close()
	return buf.Bytes()
}

// The server lets go of the store between requests: the CLI opens it.
func TestStoreReleased(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.signedIn("otto")
	c.uploadDraft("contractors.csv", sample(t, "contractors.csv"))
	c.get("/runs")
	st, err := runstore.Open(te.store, runstore.Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("the server still holds the store: %v", err)
	}
	// While the CLI holds it, a page waits and then says so.
	te.srv.store.wait = 300 * time.Millisecond
	resp, body := c.get("/runs")
	st.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "in use by another wvbatch") {
		t.Errorf("store held elsewhere: %s; want 503 saying so", resp.Status)
	}
	if resp, _ := c.get("/runs"); resp.StatusCode != http.StatusOK {
		t.Errorf("after the CLI let go: %s", resp.Status)
	}
}

// recordRun records a run of a sample the way submit does, with its first
// order placed as 1-777.
func recordRun(t *testing.T, te *testEnv, sampleName string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), sampleName)
	os.WriteFile(path, sample(t, sampleName), 0o600)
	res, err := importer.Import(context.Background(), importer.Options{Path: path, Check: roster.CheckConfig{Now: func() time.Time { return testNow }}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := runstore.Open(te.store, runstore.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := submit.NewRun(res, submit.Settings{Roster: path, Order: res.Order, Endpoint: "sandbox"}, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRun(r.Run, r.Orders, r.Rows); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkSending(r.Run.ID, r.Orders[0].Key); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSubmitted(r.Run.ID, r.Orders[0].Key, "1-777"); err != nil {
		t.Fatal(err)
	}
	return r.Run.ID
}

func TestRunsPages(t *testing.T) {
	te := newTestEnv(t, nil)
	id := recordRun(t, te, "contractors-with-errors.csv")
	c := te.signedIn("vera")
	_, body := c.get("/runs")
	if !strings.Contains(body, `href="/runs/`+id+`"`) || !strings.Contains(body, "contractors-with-errors.csv") {
		t.Fatalf("the runs list lacks run %s", id)
	}
	for q, want := range map[string]bool{"?q=1-777": true, "?q=1-778": false, "?q=with-errors": true, "?state=done": false, "?state=open": true, "?endpoint=sandbox": true, "?endpoint=https://api.equinix.com": false} {
		if _, body := c.get("/runs" + q); strings.Contains(body, `href="/runs/`+id+`"`) != want {
			t.Errorf("runs%s: listed=%v, want %v", q, !want, want)
		}
	}
	resp, body := c.get("/runs/" + id)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "1-777") || !strings.Contains(body, "invalid") {
		t.Errorf("run page: %s, order id or row outcomes missing", resp.Status)
	}
	if resp, _ := c.get("/runs/" + id + "/files/report"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("report of a run without one: %s; want 404", resp.Status)
	}
	dir := filepath.Join(te.dir, "reports", id)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "summary.json"), []byte(`{"run_id":"`+id+`"}`), 0o644)
	resp, err := c.http.Get(te.ts.URL + "/runs/" + id + "/files/summary")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sum map[string]string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &sum) != nil || sum["run_id"] != id {
		t.Errorf("summary download: %s %s", resp.Status, b)
	}
	for _, p := range []string{"/runs/" + id + "/files/..%2F..%2Fwvbatch.db", "/runs/..%2Fwvbatch.db/files/summary", "/runs/nope/files/summary"} {
		if resp, _ := c.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s; want 404", p, resp.Status)
		}
	}
}

// An administrator adds and removes users from the page; each change is an
// audit line.
func TestUsersPage(t *testing.T) {
	te := newTestEnv(t, nil)
	a := te.signedIn("ada")
	resp, body := a.post("/users", url.Values{"csrf": {a.csrf}, "name": {"nina"}, "role": {RoleViewer}, "password": {"short"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at least 10 characters") {
		t.Errorf("short password: %s", resp.Status)
	}
	if resp, _ := a.post("/users", url.Values{"csrf": {a.csrf}, "name": {"nina"}, "role": {RoleViewer}, "password": {"a long enough one"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("add: %s", resp.Status)
	}
	if resp := te.client().signIn("nina", "a long enough one"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the new user cannot sign in: %s", resp.Status)
	}
	if resp, _ := a.post("/users/nina/remove", url.Values{"csrf": {a.csrf}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("remove: %s", resp.Status)
	}
	for _, want := range []string{`"audit":"user-add"`, `"audit":"user-remove"`} {
		if !strings.Contains(te.audit.String(), want) {
			t.Errorf("no audit line %s", want)
		}
	}
	if strings.Contains(te.audit.String(), "a long enough one") {
		t.Error("the audit log holds a password")
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("a long enough one")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "long enough") {
		t.Errorf("hash %q", h)
	}
	if !CheckPassword(h, "a long enough one") || CheckPassword(h, "a long enough on") || CheckPassword("$argon2id$v=19$m=0,t=0,p=0$$", "") {
		t.Error("CheckPassword accepts a wrong password or a broken hash")
	}
	h2, _ := HashPassword("a long enough one")
	if h == h2 {
		t.Error("two hashes of one password are the same: no salt")
	}
}

// The Schedules page shows each job of the daemon the server runs, with its
// next times in the job's zone and UTC; only an administrator may run one.
func TestSchedulesPage(t *testing.T) {
	te := newTestEnv(t, nil)
	c := te.signedIn("vera")
	if resp, _ := c.get("/schedules"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("without a scheduler: %s; want 404", resp.Status)
	}
	jobs, err := scheduler.LoadFile(filepath.Join("..", "..", "samples", "jobs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sch, err := scheduler.New(scheduler.Config{Jobs: jobs, Open: te.srv.OpenStore, Close: te.srv.CloseStore,
		Run: func(context.Context, *runstore.Store, *scheduler.Job, time.Time) scheduler.Result {
			t.Error("a job ran")
			return scheduler.Result{}
		}})
	if err != nil {
		t.Fatal(err)
	}
	te.srv.AttachScheduler(sch)
	resp, body := c.get("/schedules")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("schedules: %s", resp.Status)
	}
	next := jobs[0].Schedule.Next(time.Now())
	for _, want := range []string{"dc2-ups-monthly", "dc2-weekly-inspection", "America/New_York",
		next.UTC().Format("2006-01-02 15:04 UTC"), next.In(jobs[0].Schedule.Location()).Format("2006-01-02 15:04 MST")} {
		if !strings.Contains(body, want) {
			t.Errorf("the schedules page lacks %q", want)
		}
	}
	if strings.Contains(body, "Run now") {
		t.Error("a viewer is offered Run now")
	}
	for _, who := range []string{"vera", "otto"} {
		u := te.signedIn(who)
		if resp, _ := u.post("/schedules/dc2-ups-monthly/run", url.Values{"csrf": {u.csrf}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s runs a job: %s; want 403", who, resp.Status)
		}
	}
	a := te.signedIn("ada")
	if resp, _ := a.post("/schedules/nope/run", url.Values{"csrf": {a.csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("run-now of an unknown job: %s; want 404", resp.Status)
	}
	// The daemon's store is the server's: open while either uses it, then
	// let go.
	st, err := te.srv.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := c.get("/runs"); resp.StatusCode != http.StatusOK {
		t.Errorf("a page while the daemon holds the store: %s", resp.Status)
	}
	te.srv.CloseStore(st)
	if st, err := runstore.Open(te.store, runstore.Options{LockTimeout: 50 * time.Millisecond}); err != nil {
		t.Errorf("the store is still held: %v", err)
	} else {
		st.Close()
	}
}

// Uploads are deleted once older than KeepUploads.
func TestUploadsPruned(t *testing.T) {
	te := newTestEnv(t, func(c *Config) { c.KeepUploads = time.Hour })
	c := te.signedIn("otto")
	old := c.uploadDraft("contractors.csv", sample(t, "contractors.csv"))
	fresh := c.uploadDraft("contractors-with-errors.csv", sample(t, "contractors-with-errors.csv"))
	te.srv.pruneUploads(time.Now().Add(30 * time.Minute))
	for _, d := range []string{old, fresh} {
		if resp, _ := c.get(d); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s before its time: %s", d, resp.Status)
		}
	}
	// Make the first upload two hours old.
	id := strings.TrimPrefix(old, "/drafts/")
	p := filepath.Join(te.dir, "uploads", id, "draft.json")
	b, _ := os.ReadFile(p)
	var d draft
	json.Unmarshal(b, &d)
	d.Created = time.Now().Add(-2 * time.Hour)
	b, _ = json.Marshal(d)
	os.WriteFile(p, b, 0o600)
	te.srv.pruneUploads(time.Now())
	if _, err := os.Stat(filepath.Join(te.dir, "uploads", id)); !os.IsNotExist(err) {
		t.Errorf("the old upload is still there: %v", err)
	}
	if resp, _ := c.get(old); resp.StatusCode != http.StatusNotFound {
		t.Errorf("old upload: %s; want 404", resp.Status)
	}
	if resp, _ := c.get(fresh); resp.StatusCode != http.StatusOK {
		t.Errorf("fresh upload: %s; want 200", resp.Status)
	}
}
