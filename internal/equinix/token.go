package equinix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tokenTimeoutDefault is assumed when Equinix's answer gives no usable
// token_timeout (the API documents 3599 seconds).
const tokenTimeoutDefault = 3599 * time.Second

// tokenSource holds the access token. Concurrent callers share one token
// request; a refusal is remembered so the Client never asks again (the
// account locks after 5 refused attempts).
type tokenSource struct {
	client *Client
	creds  bool // client id and secret are set

	mu      sync.Mutex
	token   string
	renewAt time.Time // zero: never (a ready token from Config)
	refused error     // *AuthError once Equinix refused the credentials
	user    string    // the user_name of the last token answer, if it named one
	call    *tokenCall
}

type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// get returns a usable token, requesting one when there is none or the one
// held is due for renewal.
func (ts *tokenSource) get(ctx context.Context) (string, error) {
	ts.mu.Lock()
	if ts.refused != nil {
		ts.mu.Unlock()
		return "", ts.refused
	}
	if ts.token != "" && (ts.renewAt.IsZero() || ts.client.cfg.Now().Before(ts.renewAt)) {
		t := ts.token
		ts.mu.Unlock()
		return t, nil
	}
	call := ts.call
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		ts.call = call
		// The request outlives a caller that gives up, so that the callers
		// still waiting share it; it is bounded by the Client's timeout
		// and retries.
		go ts.fetch(context.WithoutCancel(ctx), call)
	}
	ts.mu.Unlock()
	select {
	case <-call.done:
		return call.token, call.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (ts *tokenSource) fetch(ctx context.Context, call *tokenCall) {
	tok, ttl, user, err := ts.client.requestToken(ctx)
	ts.client.cfg.Observer.TokenRefresh(err == nil)
	ts.mu.Lock()
	if err == nil {
		ts.token = tok
		ts.user = user
		ts.renewAt = ts.client.cfg.Now().Add(ttl - renewMargin(ttl))
	} else if _, ok := errors.AsType[*AuthError](err); ok {
		ts.refused = err
	}
	ts.call = nil
	ts.mu.Unlock()
	call.token, call.err = tok, err
	close(call.done)
}

// renewMargin is how long before its expiry a token is renewed: a tenth of
// its life, at least a minute, at most half its life.
func renewMargin(ttl time.Duration) time.Duration {
	return min(max(ttl/10, time.Minute), ttl/2)
}

// invalidate drops token after Equinix answered 401 to it. A ready token
// with no client credentials to replace it is a refusal.
func (ts *tokenSource) invalidate(token string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token != token {
		return // already renewed by another caller
	}
	ts.token = ""
	if !ts.creds {
		ts.refused = &AuthError{Status: http.StatusUnauthorized, ReadyToken: true}
		ts.client.cfg.Observer.CredentialsRefused()
	}
}

// current returns the token held, for redaction.
func (ts *tokenSource) current() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.token
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type tokenAnswer struct {
	AccessToken  string          `json:"access_token"`
	TokenTimeout json.RawMessage `json:"token_timeout"`
	TokenType    string          `json:"token_type"`
	UserName     string          `json:"user_name"`
}

// Login makes sure the Client holds a usable token and returns the user the
// credentials log in as, when Equinix's token answer names one ("" for a
// ready token, or an answer without user_name).
func (c *Client) Login(ctx context.Context) (string, error) {
	if _, err := c.tokens.get(ctx); err != nil {
		return "", err
	}
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.user, nil
}

// requestToken asks Equinix for an access token with the client credentials
// and returns it with its lifetime and the user_name the answer names.
func (c *Client) requestToken(ctx context.Context) (string, time.Duration, string, error) {
	const op = "get Equinix access token"
	resp, err := c.do(ctx, &request{
		op:     op,
		method: http.MethodPost,
		path:   "/oauth2/v1/token",
		body: tokenRequest{
			GrantType:    "client_credentials",
			ClientID:     c.cfg.ClientID,
			ClientSecret: c.cfg.ClientSecret,
		},
		token:  true,
		replay: replaySafe,
	})
	if err != nil {
		return "", 0, "", err
	}
	var a tokenAnswer
	if err := decodeJSON(op, resp, &a); err != nil {
		return "", 0, "", err
	}
	if a.AccessToken == "" {
		return "", 0, "", fmt.Errorf("%s: Equinix's answer has no access_token", op)
	}
	if a.TokenType != "" && !strings.EqualFold(a.TokenType, "Bearer") {
		return "", 0, "", fmt.Errorf("%s: Equinix gave a token of type %q, not Bearer", op, a.TokenType)
	}
	ttl, ok := parseTokenTimeout(a.TokenTimeout)
	if !ok {
		ttl = tokenTimeoutDefault
	}
	c.log.Debug().Str("user_name", a.UserName).Dur("token_timeout", ttl).Msg("equinix access token received")
	return a.AccessToken, ttl, a.UserName, nil
}

// parseTokenTimeout reads token_timeout: a string of seconds ("3599"), or,
// tolerated, a number.
func parseTokenTimeout(raw json.RawMessage) (time.Duration, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || n <= 0 || n > 366*24*3600 {
		return 0, false
	}
	return time.Duration(n * float64(time.Second)), true
}
