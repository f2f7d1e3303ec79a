package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wvbatch/wvbatch/internal/plan"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// Options says what to import and how.
type Options struct {
	// Path is the roster file (.xlsx or .csv).
	Path string
	Read roster.ReadOptions
	// Check configures the row checks (clock, date order, window).
	Check roster.CheckConfig
	// Order holds order-level fields given as flags; each non-empty field
	// wins over the roster's Order sheet.
	Order roster.OrderFields
	// CountOnly keeps only visitor counts in the plan (see plan.Config).
	CountOnly bool
	// Salt is mixed into the run id, e.g. a scheduled job's name and time.
	Salt string
	// Endpoint, when not empty, names where the run orders (the API's URL
	// and account) and is mixed into the run id: the same roster ordered
	// at two endpoints is two runs. Empty stands for the built-in sandbox.
	Endpoint string
	// OnError, when set, receives every row error as it is found, in roster
	// order; Result.Errors then keeps only the first KeepErrors.
	OnError func(roster.RowError)
	// KeepErrors bounds Result.Errors when OnError is set (0 = 100).
	KeepErrors int
	// Preflight, when set, checks valid rows and the order's contacts
	// against the Equinix account. Its first question comes only once the
	// header is known to hold every column the checks need; the contacts
	// are checked once the rows are.
	Preflight Preflight
	// Follow, when set, is told the header's row once the roster is open,
	// and each data row's errors (none for a valid row) once it is
	// checked, in roster order. When the rows are read again (see
	// roster.DateOrderAuto) it is told them again, from the first.
	Follow Follower
	// Identity, when set, is what Identify found of the file with the same
	// Path, Read and Order: Import neither hashes the file nor reads its
	// Order sheet again.
	Identity *Identity
}

// A Follower follows an import row by row (see Options.Follow). Its
// methods are called on the importing goroutine; errs is only valid during
// the call.
type Follower interface {
	Header(row int)
	Checked(row int, errs []roster.RowError)
}

// Identity is what names the runs of a roster before its rows are read:
// the SHA-256 of the file's bytes and the order-level fields in effect.
type Identity struct {
	Hash  string
	Order roster.OrderFields
}

// Identify hashes the roster file and reads its Order sheet, not its rows:
// enough to know the run id an import with opt gives (Identity.RunID).
// Its errors are for a file that cannot be read; Import says more
// precisely what is wrong with it.
func Identify(opt Options) (Identity, error) {
	of, err := orderFields(opt)
	if err != nil {
		return Identity{}, err
	}
	sum, err := HashFile(opt.Path)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Hash: sum, Order: of}, nil
}

// RunID is the id of the run of the roster imported with opt: opt's date
// order, salt and endpoint are mixed in.
func (id Identity) RunID(opt Options) string {
	return RunID(id.Hash, id.Order, opt.Check.DateOrder, opt.Salt, opt.Endpoint)
}

// Preflight checks rows and contacts against the account; see package
// preflight.
type Preflight interface {
	Visitor(ctx context.Context, h *roster.Header, v *roster.Visitor, errs []roster.RowError) ([]roster.RowError, error)
	Contacts(ctx context.Context, of roster.OrderFields) ([]roster.RowError, error)
}

// Result is what an import found.
type Result struct {
	File   string
	Sheet  string
	Header *roster.Header
	// Hash is the SHA-256 of the roster file's bytes.
	Hash string
	// RunID identifies a run of this roster with these settings.
	RunID string
	// Order is the order-level fields in effect.
	Order roster.OrderFields
	// Warnings are notes that do not stop anything (ignored columns).
	Warnings []string

	Rows, ValidRows, InvalidRows int
	// LastRow and LastColumn are the last row of the sheet that holds a
	// cell and its widest row's cells, for a report's copy of the sheet.
	LastRow, LastColumn int
	// OrderErrors are problems with the order-level fields (contacts).
	OrderErrors []roster.RowError
	// Errors are the row errors (all of them unless Options.OnError is set).
	Errors      []roster.RowError
	ErrorsTotal int
	// Orders is the plan.
	Orders  []plan.Order
	Summary plan.Summary
}

// Import reads, checks and plans a roster. A roster that cannot be read at
// all returns a *roster.FileError; problems in rows are in Result.Errors.
func Import(ctx context.Context, opt Options) (*Result, error) {
	// Open first: it gives the clear message for a file that is missing,
	// a folder or not a roster.
	src, err := roster.Open(opt.Path, opt.Read)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// The run id hashes the whole file: do it while the rows are read,
	// unless Identify did.
	type hashed struct {
		sum string
		err error
	}
	hashc := make(chan hashed, 1)
	if opt.Identity != nil {
		hashc <- hashed{sum: opt.Identity.Hash}
	} else {
		go func() {
			sum, err := HashFile(opt.Path)
			hashc <- hashed{sum, err}
		}()
	}
	h := src.Header()
	if opt.Follow != nil {
		opt.Follow.Header(h.Row)
	}

	res := &Result{File: opt.Path, Sheet: h.Sheet, Header: h}
	for _, col := range h.Ignored {
		res.Warnings = append(res.Warnings, fmt.Sprintf("column %q is not a visitor column and is ignored", col))
	}
	if opt.Identity != nil {
		res.Order = opt.Identity.Order
	} else if res.Order, err = orderFields(opt); err != nil {
		return nil, err
	}

	if missing := roster.MissingColumns(h, opt.Check); len(missing) > 0 {
		msgs := make([]string, len(missing))
		for i, e := range missing {
			msgs[i] = e.Message
		}
		return nil, &roster.FileError{Path: opt.Path, Sheet: h.Sheet, Row: h.Row,
			Msg: strings.Join(msgs, "; "), Hint: missing[0].Hint}
	}

	check := opt.Check
	check.Preflight = opt.Preflight != nil
	// With OnError, the errors of rows from the first date that could be
	// read two ways are held back until the column's order is known.
	hold := opt.OnError != nil && check.DateOrder == roster.DateOrderAuto
	sc, err := scan(ctx, opt, check, src, res, 0, hold)
	if err != nil {
		return nil, err
	}
	setExtent(res, src)
	if check.DateOrder == roster.DateOrderAuto {
		settled := sc.checker.Settled()
		if len(settled) > 0 || sc.heldFrom > 0 {
			// Read the rows again with the order the column's other rows
			// settle: the pre-flight's answers are remembered.
			for _, st := range settled {
				slot := 0
				if st.Field == roster.FieldEnd {
					slot = 1
				}
				check.ColumnOrder[slot] = st.Order
			}
			again, err := roster.Open(opt.Path, opt.Read)
			if err != nil {
				return nil, err
			}
			defer again.Close()
			if sc, err = scan(ctx, opt, check, again, res, sc.heldFrom, false); err != nil {
				return nil, err
			}
			setExtent(res, again)
			for _, st := range settled {
				res.Warnings = append(res.Warnings, st.Note())
			}
		}
	}
	if sc.hidden.Len() > 0 {
		res.Warnings = append(res.Warnings, roster.HiddenRowsNote(&sc.hidden))
	}
	if p := sc.checker.NumberPhones(); p.Len() > 0 {
		res.Warnings = append(res.Warnings, roster.NumberPhonesNote(p))
	}
	if res.Rows == 0 {
		return nil, &roster.FileError{Path: opt.Path, Sheet: h.Sheet, Msg: "the roster has a header but no visitor rows",
			Hint: "add one row per visitor below the header"}
	}
	if opt.Preflight != nil {
		if res.OrderErrors, err = opt.Preflight.Contacts(ctx, res.Order); err != nil {
			return nil, err
		}
	}
	hs := <-hashc
	if hs.err != nil {
		return nil, hs.err
	}
	res.Hash = hs.sum
	res.RunID = Identity{Hash: res.Hash, Order: res.Order}.RunID(opt)
	sc.planner.SetRunID(res.RunID)
	res.Orders, res.Summary = sc.planner.Orders()
	return res, nil
}

// setExtent takes the last row and column of a roster read to its end.
func setExtent(res *Result, src roster.Source) {
	if e, ok := src.(interface{ Extent() (lastRow, lastCol int) }); ok {
		res.LastRow, res.LastColumn = e.Extent()
	}
}

// scanned is what one pass over a roster's rows leaves besides the counts
// and errors in the Result.
type scanned struct {
	checker *roster.Checker
	planner *plan.Planner
	hidden  roster.RowSet
	// heldFrom is the row from which errors were held back from OnError,
	// or 0.
	heldFrom int
}

// scan checks and plans every row of src, setting res's counts and errors.
// Errors of rows before deliverFrom are not given to OnError (they were
// already); with hold, errors from the first row whose date could be read
// two ways on are not either.
func scan(ctx context.Context, opt Options, check roster.CheckConfig, src roster.Source, res *Result, deliverFrom int, hold bool) (*scanned, error) {
	res.Rows, res.ValidRows, res.InvalidRows = 0, 0, 0
	res.Errors, res.ErrorsTotal = nil, 0
	h := src.Header()
	keep := cmp.Or(opt.KeepErrors, 100)
	sc := &scanned{
		checker: roster.NewChecker(h, check),
		planner: plan.New(plan.Config{ReferencePrefix: res.Order.ReferencePrefix, CountOnly: opt.CountOnly}),
	}
	report := func(e roster.RowError) {
		res.ErrorsTotal++
		if opt.OnError != nil {
			if e.Row >= deliverFrom && sc.heldFrom == 0 {
				opt.OnError(e)
			}
			if len(res.Errors) >= keep {
				return
			}
		}
		res.Errors = append(res.Errors, e)
	}
	var (
		v    roster.Visitor  // on the stack: no write barriers as it is filled
		pv   *roster.Visitor // v's copy for the preflight, which is handed a pointer
		errs []roster.RowError
	)
	for {
		if res.Rows&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := src.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		res.Rows++
		if rec.Hidden {
			sc.hidden.Add(rec.Row)
		}
		errs = sc.checker.Check(rec, &v, errs[:0])
		if hold && sc.heldFrom == 0 && sc.checker.Ambiguous() != 0 {
			sc.heldFrom = rec.Row
		}
		if len(errs) == 0 && opt.Preflight != nil {
			if pv == nil {
				pv = new(roster.Visitor)
			}
			*pv = v
			errs, err = opt.Preflight.Visitor(ctx, h, pv, errs)
			if err != nil {
				return nil, err
			}
			v = *pv
		}
		if opt.Follow != nil {
			opt.Follow.Checked(rec.Row, errs)
		}
		if len(errs) > 0 {
			res.InvalidRows++
			for _, e := range errs {
				report(e)
			}
			continue
		}
		res.ValidRows++
		sc.planner.Add(&v)
	}
	return sc, nil
}

// orderFields merges the roster's Order sheet with the flags.
func orderFields(opt Options) (roster.OrderFields, error) {
	of, _, err := roster.ReadOrderSheet(opt.Path, opt.Read)
	if err != nil {
		return of, err
	}
	f := opt.Order
	if f.Description != "" {
		of.Description = f.Description
	}
	if f.ReferencePrefix != "" {
		of.ReferencePrefix = f.ReferencePrefix
	}
	if f.TechnicalContact != "" {
		of.TechnicalContact = f.TechnicalContact
	}
	if len(f.NotificationContacts) > 0 {
		of.NotificationContacts = f.NotificationContacts
	}
	if f.PurchaseOrder != "" {
		of.PurchaseOrder = f.PurchaseOrder
	}
	if len(f.ReportEmails) > 0 {
		of.ReportEmails = f.ReportEmails
	}
	return of, nil
}

// RunID derives a run's id from the roster's content hash, every setting
// that changes what would be ordered and the endpoint it is ordered at
// (empty: the built-in sandbox).
func RunID(hash string, of roster.OrderFields, order roster.DateOrder, salt, endpoint string) string {
	h := sha256.New()
	for _, s := range []string{hash, of.Description, of.ReferencePrefix, of.TechnicalContact,
		strings.Join(of.NotificationContacts, ","), of.PurchaseOrder, order.String(), salt} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if endpoint != "" {
		h.Write([]byte("endpoint\x00" + endpoint))
	}
	return "r" + hex.EncodeToString(h.Sum(nil))[:15]
}

// HashFile is the SHA-256 of a file's bytes, as a run records its roster's.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", &roster.FileError{Path: path, Msg: "cannot open the file: " + err.Error(), Hint: "check the path and that you may read it", Err: err}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", &roster.FileError{Path: path, Msg: "cannot read the file: " + err.Error(), Hint: "check the path and that you may read it", Err: err}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
