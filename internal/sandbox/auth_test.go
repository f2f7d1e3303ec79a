package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func tokenBody(id, secret string) map[string]string {
	return map[string]string{"grant_type": "client_credentials", "client_id": id, "client_secret": secret}
}

func TestToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cfg         Config
		contentType string
		body        string
		wantStatus  int
		wantCode    string
	}{
		{"default credentials", Config{}, "application/json",
			`{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret"}`, 200, ""},
		{"configured credentials", Config{ClientID: "id-1", ClientSecret: "s3cret"}, "application/json",
			`{"grant_type":"client_credentials","client_id":"id-1","client_secret":"s3cret"}`, 200, ""},
		{"wrong secret", Config{}, "application/json",
			`{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"nope"}`, 401, "INVALID_CREDENTIALS"},
		{"form encoded", Config{}, "application/x-www-form-urlencoded",
			`grant_type=client_credentials&client_id=sandbox-client&client_secret=sandbox-secret`, 401, "INVALID_REQUEST"},
		{"password grant", Config{}, "application/json",
			`{"grant_type":"password","client_id":"sandbox-client","client_secret":"sandbox-secret"}`, 401, "INVALID_GRANT_TYPE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.cfg)
			req, _ := http.NewRequest("POST", e.ts.URL+"/oauth2/v1/token", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			var raw map[string]any
			if err := jsonDecode(resp.Body, &raw); err != nil {
				t.Fatal(err)
			}
			if tc.wantStatus == 200 {
				if raw["token_timeout"] != "3599" || raw["token_type"] != "Bearer" || raw["user_name"] != "sandbox.orderer" || raw["access_token"] == "" {
					t.Fatalf("token answer %v", raw)
				}
				return
			}
			for _, k := range []string{"error_domain", "error_title", "error_code", "developer_message", "error_message"} {
				if s, _ := raw[k].(string); s == "" {
					t.Errorf("error body lacks %s: %v", k, raw)
				}
			}
			if raw["error_code"] != tc.wantCode {
				t.Errorf("error_code %v, want %s", raw["error_code"], tc.wantCode)
			}
		})
	}
}

func TestTokenLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	for i := 1; i <= LockoutAttempts; i++ {
		a := e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, "wrong"), "")
		if a.status != 401 || !strings.Contains(a.String(), "INVALID_CREDENTIALS") {
			t.Fatalf("attempt %d: %d %s", i, a.status, a)
		}
	}
	a := e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, DefaultClientSecret), "")
	if a.status != 401 || !strings.Contains(a.String(), "ACCOUNT_LOCKED") || !strings.Contains(a.String(), "locked") {
		t.Fatalf("correct credentials after lockout: %d %s", a.status, a)
	}
	// Another client id is not affected.
	other := newEnv(t, Config{})
	if a := other.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, DefaultClientSecret), ""); a.status != 200 {
		t.Fatalf("fresh server: %d %s", a.status, a)
	}
}

func TestTokenSuccessResetsFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	for range LockoutAttempts - 1 {
		e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, "wrong"), "")
	}
	if a := e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, DefaultClientSecret), ""); a.status != 200 {
		t.Fatalf("4 failures then correct: %d %s", a.status, a)
	}
	for range LockoutAttempts - 1 {
		e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, "wrong"), "")
	}
	if a := e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, DefaultClientSecret), ""); a.status != 200 {
		t.Fatalf("failures are not successive after a success: %d %s", a.status, a)
	}
}

func TestBearer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance time.Duration
		token   func(e *env) string
		want    int
	}{
		{"valid", 0, func(e *env) string { return e.login() }, 200},
		{"just before expiry", time.Hour - time.Second, func(e *env) string { return e.login() }, 200},
		{"expired", time.Hour, func(e *env) string { return e.login() }, 401},
		{"unknown", 0, func(*env) string { return "not-a-token" }, 401},
		{"missing", 0, func(*env) string { return "" }, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			tok := tc.token(e)
			e.clock.Advance(tc.advance)
			a := e.do("GET", "/colocations/v2/locations?permissionCode=WORK_VISIT", nil, tok)
			if a.status != tc.want {
				t.Fatalf("status %d, want %d: %s", a.status, tc.want, a)
			}
			if tc.want == 401 {
				wantError(t, a, 401, "401")
			}
		})
	}
}

func TestTokenTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{TokenTTL: 10 * time.Second})
	a := e.do("POST", "/oauth2/v1/token", tokenBody(DefaultClientID, DefaultClientSecret), "")
	var tok tokenAnswer
	mustUnmarshal(t, a.body, &tok)
	if tok.TokenTimeout != "9" {
		t.Fatalf("token_timeout %q, want \"9\"", tok.TokenTimeout)
	}
	e.clock.Advance(10 * time.Second)
	if a := e.do("GET", "/access/v2/users", nil, tok.AccessToken); a.status != 401 {
		t.Fatalf("after TTL: %d", a.status)
	}
}

func TestStartAt(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, Config{StartAt: start})
	b := visitBody()
	// Tomorrow by the real clock is long past at StartAt... and the reverse:
	// a visit on 2030-06-02 is in the future only by the sandbox clock.
	details(b)["visitStartDateTime"] = "2030-06-02T08:00:00Z"
	details(b)["visitEndDateTime"] = "2030-06-02T10:00:00Z"
	e.mustCreate(b)
	o := e.srv.Orders()[0]
	if d := o.Created.Sub(start); d < 0 || d > time.Minute {
		t.Fatalf("created %s, want just after %s", o.Created, start)
	}
	if _, err := New(Config{StartAt: start, Now: time.Now}); err == nil {
		t.Fatal("New accepted both Now and StartAt")
	}
}
