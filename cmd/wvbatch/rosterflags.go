package main

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// rosterFlags are the flags every command that reads a roster takes.
type rosterFlags struct {
	sheet     string
	tmpDir    string
	dateOrder string
	now       string

	description    string
	refPrefix      string
	technical      string
	notifyContacts []string
	purchaseOrder  string
	notify         []string
}

func (f *rosterFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.sheet, "sheet", "", `worksheet to read (default "Visitors", else the first sheet)`)
	// Reading needs no temporary files (workbooks are streamed from the
	// zip); the flag is still accepted so that scripts passing it work.
	fs.StringVar(&f.tmpDir, "tmp-dir", "", "unused: rosters are read without temporary files")
	_ = fs.MarkHidden("tmp-dir")
	fs.StringVar(&f.dateOrder, "date-order", "", "how to read dates like 03/04/2027: dmy or mdy")
	fs.StringVar(&f.now, "now", "", "treat this RFC 3339 instant as the current time (for reproducible runs)")
	fs.StringVar(&f.description, "description", "", "order description (overrides the Order sheet)")
	fs.StringVar(&f.refPrefix, "reference-prefix", "", "customer reference prefix (overrides the Order sheet)")
	fs.StringVar(&f.technical, "technical-contact", "", "Equinix username of the technical contact (overrides the Order sheet)")
	fs.StringSliceVar(&f.notifyContacts, "notification-contact", nil, "Equinix usernames to notify (overrides the Order sheet)")
	fs.StringVar(&f.purchaseOrder, "purchase-order", "", "purchase order number (overrides the Order sheet)")
	fs.StringSliceVar(&f.notify, "notify", nil, "email addresses that get the report (overrides the Order sheet)")
}

func (f *rosterFlags) readOptions() roster.ReadOptions {
	return roster.ReadOptions{Sheet: f.sheet, TmpDir: f.tmpDir}
}

func (f *rosterFlags) checkConfig(e *env) (roster.CheckConfig, error) {
	order, err := roster.ParseDateOrder(f.dateOrder)
	if err != nil {
		return roster.CheckConfig{}, usageErr(err, "use --date-order dmy (3/4 = 3 April) or --date-order mdy (3/4 = March 4)")
	}
	now, err := parseNow(f.now, e.now)
	if err != nil {
		return roster.CheckConfig{}, err
	}
	return roster.CheckConfig{Now: now, DateOrder: order}, nil
}

func (f *rosterFlags) orderFields() roster.OrderFields {
	return roster.OrderFields{
		Description:          strings.TrimSpace(f.description),
		ReferencePrefix:      strings.TrimSpace(f.refPrefix),
		TechnicalContact:     strings.TrimSpace(f.technical),
		NotificationContacts: f.notifyContacts,
		PurchaseOrder:        strings.TrimSpace(f.purchaseOrder),
		ReportEmails:         f.notify,
	}
}

// nowPtr returns the --now instant, or nil when the real clock runs.
func (f *rosterFlags) nowPtr() *time.Time {
	if f.now == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, f.now)
	if err != nil {
		return nil
	}
	return &t
}
