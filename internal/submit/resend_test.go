package submit

import (
	"errors"
	"strings"
	"testing"
)

// TestResend: a run's report is emailed again to its recipients (or
// Notify), the store records it sent; with no one to send it to, Resend
// says so and sends nothing.
func TestResend(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	out := w.place(t)
	before := w.emails(t)
	rep, err := w.p.Report(out.Run.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sent, err := w.p.Resend(rep, &b)
	if err != nil || !sent || w.emails(t) != before+1 {
		t.Fatalf("Resend = %v, %v, %d emails after %d (said %q); want one more sent", sent, err, w.emails(t), before, b.String())
	}
	if !strings.Contains(b.String(), "ann@example.com") {
		t.Errorf("Resend said %q; want it to name the recipient", b.String())
	}

	// A run given no recipients: nothing to send it to.
	w = newPipelineWorld(t)
	w.in.Import.Order.ReportEmails = nil
	out = w.place(t)
	if rep, err = w.p.Report(out.Run.ID, nil); err != nil {
		t.Fatal(err)
	}
	if sent, err := w.p.Resend(rep, &b); !errors.Is(err, ErrNoRecipients) || sent || w.emails(t) != 0 {
		t.Errorf("Resend with no recipients = %v, %v, %d emails; want ErrNoRecipients and none", sent, err, w.emails(t))
	}
}
