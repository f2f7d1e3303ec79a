package equinix

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotFound is matched (errors.Is) by lookups that found nothing: an unknown
// user, and an *APIError for an order or user Equinix cannot find (HTTP 404,
// EQ-2014005, EQ-2021005).
var ErrNotFound = errors.New("not found")

// APIError is an error answer from Equinix.
type APIError struct {
	Status        int    // HTTP status
	Code          string // Equinix error code, e.g. "EQ-2016006"; empty if none was given
	Message       string // Equinix's message
	CorrelationID string // quote it to Equinix support
	// Problems lists the request properties Equinix objected to, e.g.
	// {Property: "details.visitors[3].firstName", Reason: "... is required"}.
	// VisitorIndex and CageIndex map a Property back to a visitor or a cage.
	Problems []Problem
	// RetryAfter is how long Equinix asked to wait (429, 503), or the backoff
	// the Client chose for a 429 it did not wait through.
	RetryAfter time.Duration
}

// Problem is one entry of an error's additionalInfo.
type Problem struct {
	Property string // JSON path into the request
	Reason   string
	Value    string // the offending value, as JSON text unless it was a string
}

// Error is one line: status, code, message, the problems, the catalogue's
// hint and the correlation id.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("equinix: HTTP ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	msg := strings.TrimRight(e.Message, ". ")
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	b.WriteString(": " + msg)
	for i, p := range e.Problems {
		if i == 3 {
			b.WriteString(" (and " + strconv.Itoa(len(e.Problems)-3) + " more)")
			break
		}
		b.WriteString("; " + cmp.Or(p.Property, "?") + ": " + cmp.Or(p.Reason, p.Value))
	}
	if h := e.Hint(); h != "" {
		b.WriteString(" — " + h)
	}
	if e.CorrelationID != "" {
		b.WriteString(" [correlation id " + e.CorrelationID + "]")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Hint is the catalogue's plain-words fix for the error's code, or for its
// HTTP status when the code is unknown.
func (e *APIError) Hint() string {
	if en, ok := Lookup(e.Code); ok {
		return en.Fix
	}
	if en, ok := Lookup(strconv.Itoa(e.Status)); ok {
		return en.Fix
	}
	return ""
}

// Is makes errors.Is(err, ErrNotFound) true for answers that mean "no such
// order or user".
func (e *APIError) Is(target error) bool {
	if target != ErrNotFound {
		return false
	}
	switch e.Code {
	case "EQ-2014005", "EQ-2021005":
		return true
	}
	return e.Status == http.StatusNotFound
}

// redact replaces every secret in the error's text.
func (e *APIError) redact(secrets ...string) {
	r := func(s string) string {
		for _, sec := range secrets {
			if len(sec) >= 4 {
				s = strings.ReplaceAll(s, sec, "REDACTED")
			}
		}
		return s
	}
	e.Code, e.Message, e.CorrelationID = r(e.Code), r(e.Message), r(e.CorrelationID)
	for i := range e.Problems {
		p := &e.Problems[i]
		p.Property, p.Reason, p.Value = r(p.Property), r(p.Reason), r(p.Value)
	}
}

// wireError is one element of Equinix's error array, with the fields of the
// older {"errors":[{"code","message"}]} and token error shapes folded in.
type wireError struct {
	ErrorCode      string          `json:"errorCode"`
	ErrorMessage   string          `json:"errorMessage"`
	CorrelationID  string          `json:"correlationId"`
	Details        string          `json:"details"`
	AdditionalInfo json.RawMessage `json:"additionalInfo"`

	Code    string   `json:"code"`    // older shape
	Message string   `json:"message"` // older shape
	Fields  []string `json:"fields"`  // older shape

	TokenCode    string `json:"error_code"` // token endpoint
	TokenTitle   string `json:"error_title"`
	TokenMessage string `json:"error_message"`
}

type wireProblem struct {
	Property string          `json:"property"`
	Reason   string          `json:"reason"`
	Value    json.RawMessage `json:"value"`
}

// parseAPIError reads any error body Equinix is known to send: the v2 array,
// the older {"errors":[…],"ticketId"} object, a single error object, the
// token endpoint's object, or text.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	body = bytes.TrimSpace(body)
	var items []wireError
	switch {
	case len(body) > 0 && body[0] == '[':
		if json.Unmarshal(body, &items) != nil {
			items = nil
		}
	case len(body) > 0 && body[0] == '{':
		var old struct {
			Errors   []json.RawMessage `json:"errors"`
			TicketID string            `json:"ticketId"`
		}
		if json.Unmarshal(body, &old) == nil && len(old.Errors) > 0 {
			for _, raw := range old.Errors {
				var w wireError
				if json.Unmarshal(raw, &w) != nil {
					var s string
					if json.Unmarshal(raw, &s) != nil {
						continue
					}
					w.Message = s
				}
				items = append(items, w)
			}
			e.CorrelationID = old.TicketID
		} else {
			var w wireError
			if json.Unmarshal(body, &w) == nil {
				items = []wireError{w}
			}
		}
	}
	if items == nil {
		e.Message = textMessage(body)
		return e
	}
	var msgs []string
	for _, w := range items {
		code := firstNonEmpty(w.ErrorCode, w.Code, w.TokenCode)
		msg := firstNonEmpty(w.ErrorMessage, w.Message, w.TokenMessage, w.TokenTitle, w.Details)
		if e.Code == "" {
			e.Code = code
		}
		if msg != "" && !containsString(msgs, msg) {
			msgs = append(msgs, msg)
		}
		e.CorrelationID = cmp.Or(e.CorrelationID, w.CorrelationID)
		e.Problems = append(e.Problems, parseProblems(w.AdditionalInfo)...)
		for _, f := range w.Fields {
			e.Problems = append(e.Problems, Problem{Property: f})
		}
	}
	e.Message = strings.Join(msgs, "; ")
	return e
}

// parseProblems reads additionalInfo: an array of problems (as Equinix sends)
// or a single object (as orders-v2.json describes).
func parseProblems(raw json.RawMessage) []Problem {
	raw = bytes.TrimSpace(raw)
	var ws []wireProblem
	if len(raw) > 0 && raw[0] == '{' {
		var w wireProblem
		if json.Unmarshal(raw, &w) != nil {
			return nil
		}
		ws = []wireProblem{w}
	} else if json.Unmarshal(raw, &ws) != nil {
		return nil
	}
	ps := make([]Problem, 0, len(ws))
	for _, w := range ws {
		if w.Property == "" && w.Reason == "" && len(w.Value) == 0 {
			continue
		}
		ps = append(ps, Problem{Property: w.Property, Reason: w.Reason, Value: rawText(w.Value)})
	}
	return ps
}

func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// textMessage makes one short line of a body that is not a known JSON shape.
func textMessage(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// VisitorIndex returns the visitor index of an error property such as
// "details.visitors[3].firstName" (3), so the error can be traced to the
// roster row of that visitor.
func VisitorIndex(property string) (int, bool) { return pathIndex(property, "details.visitors[") }

// CageIndex returns the cage index of an error property such as
// "details.cages[0].id" (0).
func CageIndex(property string) (int, bool) { return pathIndex(property, "details.cages[") }

// ContactIndex returns the contact index of an error property such as
// "contacts[0].type" (0).
func ContactIndex(property string) (int, bool) { return pathIndex(property, "contacts[") }

func pathIndex(property, prefix string) (int, bool) {
	p := strings.TrimSpace(property)
	p = strings.TrimPrefix(p, "$.")
	rest, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return 0, false
	}
	digits, after, ok := strings.Cut(rest, "]")
	if !ok || digits == "" || len(digits) > 6 || (after != "" && after[0] != '.' && after[0] != '[') {
		return 0, false
	}
	n := 0
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// AuthError is Equinix refusing wvbatch's credentials. A Client that got one
// never asks for a token again: the account locks after 5 refused attempts.
type AuthError struct {
	Status  int
	Code    string // the token endpoint's error_code, if any
	Message string // Equinix's words, if any
	// ReadyToken is set when the refused credential was a ready token
	// (EQUINIX_API_TOKEN) and no client id and secret were given.
	ReadyToken bool
}

func (e *AuthError) Error() string {
	said := "HTTP " + strconv.Itoa(e.Status)
	if e.Code != "" {
		said += " " + e.Code
	}
	if m := strings.TrimRight(e.Message, ". "); m != "" {
		said += ": " + m
	}
	said = strings.Join(strings.Fields(said), " ")
	if e.ReadyToken {
		return "Equinix refused the access token (" + said + "): it has expired or was revoked; give a fresh " +
			EnvToken + ", or set " + EnvClientID + " and " + EnvClientSecret + " so wvbatch gets its own"
	}
	return "Equinix refused the client id/secret (" + said + "): check " + EnvClientID + "/SECRET; " +
		"the account locks after 5 failed attempts"
}

// UncertainError is a create that may or may not have reached Equinix: the
// connection broke, timed out or was cancelled after the request was written,
// or Equinix answered 5xx or 201 without an order id. Sending it again could
// order twice; look the order up by its customer reference
// (SearchOrdersByReference) first.
type UncertainError struct {
	Op                  string
	CustomerReferenceID string
	Err                 error
}

func (e *UncertainError) Error() string {
	s := e.Op
	if e.CustomerReferenceID != "" {
		s += " (reference " + strconv.Quote(e.CustomerReferenceID) + ")"
	}
	return s + ": it may have reached Equinix but no clear answer came back (" + e.Err.Error() +
		"); search for the order by its reference before sending it again"
}

func (e *UncertainError) Unwrap() error { return e.Err }

// IsUncertain tells whether err means a create may have happened.
func IsUncertain(err error) bool {
	_, ok := errors.AsType[*UncertainError](err)
	return ok
}

// IsRetryable tells whether trying the call again later may succeed: 429,
// 5xx (except after an uncertain create) and failures to reach Equinix.
func IsRetryable(err error) bool {
	if err == nil || IsUncertain(err) || IsAuth(err) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !isTransport(err) {
		return false
	}
	if e, ok := errors.AsType[*APIError](err); ok {
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	return isTransport(err)
}

func isTransport(err error) bool {
	_, ok := errors.AsType[*transportError](err)
	return ok
}

// IsNotFound tells whether err means the order or user does not exist (or is
// not visible to these credentials).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsAuth tells whether err means the credentials were refused: an *AuthError,
// or a 401 that renewing the token did not cure.
func IsAuth(err error) bool {
	if _, ok := errors.AsType[*AuthError](err); ok {
		return true
	}
	e, ok := errors.AsType[*APIError](err)
	return ok && e.Status == http.StatusUnauthorized
}
