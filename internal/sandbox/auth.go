package sandbox

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// tokenInfo is what a token grants.
type tokenInfo struct {
	clientID string
	user     string
	expires  time.Time
}

// tokenError is the token endpoint's error body (accesstoken-v1.yaml,
// Oauth2TokenErrorResponse).
type tokenError struct {
	ErrorDomain      string `json:"error_domain"`
	ErrorTitle       string `json:"error_title"`
	ErrorCode        string `json:"error_code"`
	DeveloperMessage string `json:"developer_message"`
	ErrorMessage     string `json:"error_message"`
}

// tokenAnswer is Oauth2TokenResponse.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenTimeout string `json:"token_timeout"`
	TokenType    string `json:"token_type"`
	UserName     string `json:"user_name"`
}

func refuseToken(w http.ResponseWriter, code, title, dev, msg string) {
	writeJSON(w, http.StatusUnauthorized, tokenError{
		ErrorDomain:      "apigateway",
		ErrorTitle:       title,
		ErrorCode:        code,
		DeveloperMessage: dev,
		ErrorMessage:     msg,
	})
}

// handleToken is POST /oauth2/v1/token. It takes a JSON body only; a
// client id is locked after LockoutAttempts successive refusals of its
// credentials, and stays locked for the life of the Server.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	const badCreds = "Please enter a valid client id/client secret and try again."
	var req struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	if !isJSON(r) || json.Unmarshal(body, &req) != nil {
		refuseToken(w, "INVALID_REQUEST", "Invalid request",
			"the token request body must be JSON (Content-Type: application/json), not form-encoded", badCreds)
		return
	}
	if req.GrantType != "client_credentials" {
		refuseToken(w, "INVALID_GRANT_TYPE", "Invalid grant type",
			fmt.Sprintf("grant_type %q is not supported; use client_credentials", req.GrantType), badCreds)
		return
	}
	now := s.now()
	s.authMu.Lock()
	if s.failures[req.ClientID] >= LockoutAttempts {
		s.authMu.Unlock()
		refuseToken(w, "ACCOUNT_LOCKED", "Account locked",
			fmt.Sprintf("the account is locked after %d successive invalid attempts; ask your Master Administrator to unlock it", LockoutAttempts),
			"Your account is locked. Please contact your administrator.")
		return
	}
	if req.ClientID != s.cfg.ClientID || req.ClientSecret != s.cfg.ClientSecret {
		s.failures[req.ClientID]++
		left := LockoutAttempts - s.failures[req.ClientID]
		s.authMu.Unlock()
		dev := fmt.Sprintf("invalid client_id or client_secret; %d more invalid attempts lock the account", left)
		if left == 0 {
			dev = "invalid client_id or client_secret; the account is now locked"
		}
		refuseToken(w, "INVALID_CREDENTIALS", "Invalid credentials", dev, badCreds)
		return
	}
	delete(s.failures, req.ClientID)
	tok := rand.Text() + rand.Text()
	if len(s.tokens) > 10000 {
		for k, t := range s.tokens {
			if !now.Before(t.expires) {
				delete(s.tokens, k)
			}
		}
	}
	user := s.idx.acct.OrderingUser
	s.tokens[tok] = tokenInfo{clientID: req.ClientID, user: user, expires: now.Add(s.cfg.TokenTTL)}
	s.authMu.Unlock()
	writeJSON(w, http.StatusOK, tokenAnswer{
		AccessToken:  tok,
		TokenTimeout: strconv.Itoa(int(s.cfg.TokenTTL/time.Second) - 1),
		TokenType:    "Bearer",
		UserName:     user,
	})
}

// authed wraps a handler that needs a valid bearer token.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, tokenInfo)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			s.writeStatusError(w, r, http.StatusUnauthorized, "Missing bearer token: send Authorization: Bearer <access_token>.")
			return
		}
		s.authMu.Lock()
		ti, ok := s.tokens[tok]
		s.authMu.Unlock()
		switch {
		case !ok:
			s.writeStatusError(w, r, http.StatusUnauthorized, "Invalid access token.")
		case !s.now().Before(ti.expires):
			s.writeStatusError(w, r, http.StatusUnauthorized, "Access token expired.")
		default:
			h(w, r, ti)
		}
	})
}
