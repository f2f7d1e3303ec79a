package submit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// AmendAsk is a change of a run's placed orders as a person asks for it
// (the flags of reschedule and amend), before it is checked.
type AmendAsk struct {
	// Move says the orders must be moved (reschedule): Shift, or Start
	// and End, is then required.
	Move bool
	// Shift moves every order's window by this much.
	Shift time.Duration
	// Start and End are a new window: RFC 3339, or a wall time of the
	// orders' IBX ("2027-01-12 08:00").
	Start, End string
	// OpenCabinet is "", "true" or "false".
	OpenCabinet string
	// Notify are registered usernames to add to the orders' notification
	// contacts.
	Notify []string
}

// AskError is a change asked for that cannot be made; Hint says how to ask.
type AskError struct {
	Err  error
	Hint string
}

func (e *AskError) Error() string { return e.Err.Error() }
func (e *AskError) Unwrap() error { return e.Err }

func askErr(hint, format string, args ...any) error {
	return &AskError{Err: fmt.Errorf(format, args...), Hint: hint}
}

// AmendRequest checks the change asked of run runID's orders and returns
// it, or nil when none was asked (amend RUN, which finishes an unfinished
// amendment). Window times without an offset are in the time zone of the
// run's orders' IBX. A change that cannot be made is an *AskError.
func (p *Pipeline) AmendRequest(runID string, a AmendAsk) (*runstore.AmendRequest, error) {
	var req runstore.AmendRequest
	switch {
	case a.Shift != 0 && (a.Start != "" || a.End != ""):
		return nil, askErr("e.g. --shift 24h, or --start '2027-01-12 08:00' --end '2027-01-12 18:00'", "give --shift or --start and --end, not both")
	case a.Shift != 0:
		req.Shift = a.Shift
	case a.Start != "" || a.End != "":
		if a.Start == "" || a.End == "" {
			return nil, askErr("give both, e.g. --start '2027-01-12 08:00' --end '2027-01-12 18:00'", "--start and --end go together")
		}
		loc, err := RunZone(p.Store, runID)
		if err != nil {
			return nil, err
		}
		if req.Start, err = windowTime("--start", a.Start, loc); err != nil {
			return nil, err
		}
		if req.End, err = windowTime("--end", a.End, loc); err != nil {
			return nil, err
		}
	case a.Move:
		return nil, askErr("--shift 24h, or --start TIME --end TIME", "say where to move the orders")
	}
	if a.OpenCabinet != "" {
		b, err := strconv.ParseBool(a.OpenCabinet)
		if err != nil {
			return nil, askErr("e.g. --open-cabinet true", "--open-cabinet %q: want true or false", a.OpenCabinet)
		}
		req.OpenCabinet = &b
	}
	for _, u := range a.Notify {
		u = strings.TrimSpace(u)
		if problem := roster.UsernameProblem(u); problem != "" {
			return nil, askErr("give a registered Equinix portal username, e.g. --notify-contact noc.amsterdam", "--notify-contact %q %s", u, problem)
		}
		req.Notify = append(req.Notify, u)
	}
	if req.Shift == 0 && req.Start.IsZero() && req.OpenCabinet == nil && len(req.Notify) == 0 {
		return nil, nil
	}
	return &req, nil
}

// RunZone is the time zone of the run's orders' IBX, for window times
// given without an offset; UTC when no order's IBX has a known zone.
func RunZone(st *runstore.Store, runID string) (*time.Location, error) {
	orders, err := st.Orders(runID)
	if err != nil {
		return nil, err
	}
	for _, o := range orders {
		if zone, ok := roster.MetroZone(o.IBX); ok {
			if loc, err := time.LoadLocation(zone); err == nil {
				return loc, nil
			}
		}
	}
	return time.UTC, nil
}

// windowTime reads a window's start or end: RFC 3339, or a wall time in
// loc.
func windowTime(flag, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	w, err := roster.ParseWall(roster.Cell{Text: s}, roster.DateOrderAuto)
	if err == nil && !w.HasTime {
		err = errors.New("no time of day")
	}
	if err != nil {
		return time.Time{}, askErr("write it like 2027-01-12 08:00 (the IBX's local time) or 2027-01-12T07:00:00Z", "%s %q: %v", flag, s, err)
	}
	t, err := w.In(loc)
	if err != nil {
		return time.Time{}, askErr("choose a time outside the skipped hour", "%s %q: %v", flag, s, err)
	}
	return t, nil
}
