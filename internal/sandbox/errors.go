package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The error codes the sandbox answers with (seed 001 and seed 003).
const (
	CodeMissingProperties  = "EQ-2016011"  // 400: a property of a work visit is missing or invalid
	CodeCageNotPermitted   = "EQ-2016006"  // 403: cage, cabinet or account not found or not permitted
	CodeCannotUpdate       = "EQ-2016007"  // 403: the order cannot be updated (cancelled or closed)
	CodeOrderNotFound      = "EQ-2014005"  // 404: unknown order
	CodeCannotCancel       = "EQ-2014007"  // 403: the order cannot be cancelled
	CodeUserNotActive      = "EQX-161-403" // 403: a contact or visitor user is not active
	CodeLookupMissingParam = "EQ-2061011"  // 400: a lookup parameter is missing or invalid
)

const helpURL = "https://docs.equinix.com/api-support.htm"

// problem is one entry of an error's additionalInfo.
type problem struct {
	Property string `json:"property"`
	Reason   string `json:"reason"`
	Value    any    `json:"value,omitempty"`
}

// apiError is one element of Equinix's v2 error array.
type apiError struct {
	ErrorCode      string    `json:"errorCode"`
	ErrorMessage   string    `json:"errorMessage"`
	CorrelationID  string    `json:"correlationId"`
	Details        string    `json:"details"`
	Help           string    `json:"help"`
	AdditionalInfo []problem `json:"additionalInfo,omitempty"`
}

var codeMessages = map[string]string{
	CodeMissingProperties:  "One or more mandatory properties are missing.",
	CodeCageNotPermitted:   "Permission denied to create. Please ensure you have appropriate permissions.",
	CodeCannotUpdate:       "Permission denied to update or cancel. Please ensure you have appropriate permissions.",
	CodeOrderNotFound:      "Unable to access or locate given order. Please ensure you have appropriate permissions.",
	CodeCannotCancel:       "Permission denied to update or cancel. Please ensure you have appropriate permissions.",
	CodeUserNotActive:      "Contacts (with userName) should be Active and Approved",
	CodeLookupMissingParam: "One or more mandatory properties are missing.",
}

// writeJSON writes v as the JSON body of a status answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers with Equinix's v2 error array holding one error.
func (s *Server) writeError(w http.ResponseWriter, status int, code, details string, probs ...problem) {
	msg, ok := codeMessages[code]
	if !ok {
		msg = http.StatusText(status)
	}
	writeJSON(w, status, []apiError{{
		ErrorCode:      code,
		ErrorMessage:   msg,
		CorrelationID:  s.correlationID(),
		Details:        details,
		Help:           helpURL,
		AdditionalInfo: probs,
	}})
}

// writeStatusError answers with a generic error whose code is the HTTP
// status, as Equinix's catalogue lists them ("401", "429", "500"), in the
// error shape of the API r went to: the token endpoint's object under
// /oauth2/, the order history API's {"errors":[…],"ticketId"} under /v1/,
// else the v2 error array.
func (s *Server) writeStatusError(w http.ResponseWriter, r *http.Request, status int, details string) {
	code := strconv.Itoa(status)
	switch {
	case strings.HasPrefix(r.URL.Path, "/oauth2/"):
		writeJSON(w, status, tokenError{ErrorDomain: "apigateway", ErrorTitle: http.StatusText(status), ErrorCode: code,
			DeveloperMessage: details, ErrorMessage: details})
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		s.writeV1Error(w, status, code, details)
	default:
		s.writeError(w, status, code, details)
	}
}

// writeV1Error answers in the older {"errors":[…],"ticketId"} shape that the
// order history API (v1) documents in its examples.
func (s *Server) writeV1Error(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	type v1err struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Fields  []string `json:"fields,omitempty"`
	}
	writeJSON(w, status, struct {
		Errors   []v1err `json:"errors"`
		TicketID string  `json:"ticketId"`
	}{[]v1err{{code, msg, fields}}, s.correlationID()})
}

// correlationID returns a fresh id in Equinix's style: the date and a
// sequence number, 15 digits.
func (s *Server) correlationID() string {
	n := s.corrSeq.Add(1)
	return s.now().UTC().Format("060102") + fmt.Sprintf("%09d", n%1_000_000_000)
}
