package main

import (
	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// auditRun is the audit line (at info, whatever the log level) of what a
// command did to a run: who ran it, the action ("order", "cancel"), the run,
// its endpoint and its counts (submit.Outcome.Audit). It is nil, and logs nothing, when the command
// did nothing (a finished run shown again). The caller adds what is
// particular to the action and calls Msg.
func auditRun(e *env, action string, o *submit.Outcome) *zerolog.Event {
	if o == nil || o.Shown {
		return nil
	}
	log := auditLogger(e)
	return o.Audit(log.Info().Str("audit", action).Str("user", osUser(e)), action)
}

// auditAmendment is the audit line of a reschedule or amend: who, the run,
// the change and its orders by outcome.
func auditAmendment(e *env, action string, rep *report.AmendmentReport, stopped error) {
	if rep == nil {
		return
	}
	log := auditLogger(e)
	ev := log.Info().Str("audit", action).Str("user", osUser(e)).Str("run", rep.RunID).Int("amendment", rep.Amendment).
		Str("change", rep.Change).Str("state", rep.State)
	for k, n := range rep.Orders {
		ev = ev.Int("orders_"+k, n)
	}
	ev.AnErr("stopped", stopped).Msg("orders changed from the command line")
}
