package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// A draft is an uploaded roster on its way to an order: the file as it
// came, the cells corrected since, and the order-level fields of the form.
// It lives in DataDir/uploads/<id>/: draft.json, original<ext> and the
// corrected roster under the upload's (sanitised) name.
type draft struct {
	ID      string    `json:"id"`
	Owner   string    `json:"owner"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Fields, when set, are the order-level fields of the form; they win
	// over the roster's Order sheet as the CLI's flags do.
	Fields  *roster.OrderFields `json:"fields,omitempty"`
	Edits   []roster.CellEdit   `json:"edits,omitempty"`
	Version int                 `json:"version"`
	FromRun string              `json:"fromRun,omitempty"`
	// RunID is the run ordered from the draft, by OrderedBy at OrderedAt.
	RunID     string    `json:"runId,omitempty"`
	OrderedBy string    `json:"orderedBy,omitempty"`
	OrderedAt time.Time `json:"orderedAt,omitzero"`
}

// Limits of the check page and of one corrected cell.
const (
	maxGridRows = 100
	maxPlanRows = 200
	maxCellLen  = 2000
)

var draftIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func (d *draft) ext() string { return strings.ToLower(filepath.Ext(d.Name)) }

func (s *Server) draftDir(id string) string { return filepath.Join(s.cfg.DataDir, "uploads", id) }

func (s *Server) originalPath(d *draft) string {
	return filepath.Join(s.draftDir(d.ID), "original"+d.ext())
}

func (s *Server) correctedPath(d *draft) string { return filepath.Join(s.draftDir(d.ID), d.Name) }

// errBadName refuses an upload's file name.
type errBadName struct{ msg, hint string }

func (e *errBadName) Error() string { return e.msg }

// uploadName turns the file name a browser sent into one safe to keep: a
// name that is a path (or tries to climb out of its folder) is refused, and
// characters other than letters, digits, spaces and . _ - ( ) become _.
func uploadName(raw string) (string, error) {
	if raw == "" {
		return "", &errBadName{"the upload has no file name", "pick the roster file with the file button"}
	}
	if strings.ContainsAny(raw, "/\\\x00") || raw == "." || raw == ".." {
		return "", &errBadName{fmt.Sprintf("file name %q is a path, not a file name: refused", raw), "upload the file itself, named like roster.xlsx"}
	}
	ext := strings.ToLower(filepath.Ext(raw))
	switch ext {
	case ".xlsx", ".xlsm", ".csv", ".txt":
	default:
		return "", &errBadName{fmt.Sprintf("%q is not an .xlsx or .csv file", raw),
			"save the roster from Excel as .xlsx (File > Save As > Excel Workbook) or as CSV"}
	}
	stem := strings.TrimSuffix(raw, filepath.Ext(raw))
	var b strings.Builder
	for _, r := range stem {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)), strings.ContainsRune(" ._-()", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), " .")
	if utf8.RuneCountInString(name) > 80 {
		name = string([]rune(name)[:80])
	}
	if name == "" || strings.EqualFold(name, "original") || strings.EqualFold(name, "draft") {
		name = "roster"
	}
	return name + ext, nil
}

func newDraftID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) saveDraft(d *draft) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(s.draftDir(d.ID), "draft.json")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// loadDraft returns a draft its user may see: the one who uploaded it, or an
// administrator. Anyone else is told there is no such draft.
func (s *Server) loadDraft(id string, u *user) (*draft, error) {
	if !draftIDPattern.MatchString(id) {
		return nil, os.ErrNotExist
	}
	b, err := os.ReadFile(filepath.Join(s.draftDir(id), "draft.json"))
	if err != nil {
		return nil, err
	}
	var d draft
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.ID != id || (d.Owner != u.Name && u.Role != RoleAdmin) {
		return nil, os.ErrNotExist
	}
	if _, err := uploadName(d.Name); err != nil {
		return nil, err
	}
	return &d, nil
}

// pruneUploads deletes the uploads older than KeepUploads, except those
// whose run this server is placing.
func (s *Server) pruneUploads(now time.Time) {
	paths, _ := filepath.Glob(filepath.Join(s.cfg.DataDir, "uploads", "*", "draft.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var d draft
		if json.Unmarshal(b, &d) != nil || !draftIDPattern.MatchString(d.ID) || filepath.Base(filepath.Dir(p)) != d.ID {
			continue
		}
		if now.Sub(d.Created) < s.cfg.KeepUploads {
			continue
		}
		if l := s.runs.get(d.RunID); l != nil {
			if p, _ := l.snapshot(); p.State == "running" {
				continue
			}
		}
		if err := os.RemoveAll(s.draftDir(d.ID)); err != nil {
			s.cfg.Log.Warn().Err(err).Str("draft", d.ID).Msg("delete an old upload")
			continue
		}
		s.cfg.Log.Info().Str("draft", d.ID).Str("file", d.Name).Time("uploaded", d.Created).Msg("old upload deleted")
	}
}

type uploadData struct {
	MaxMB int64
}

func (s *Server) uploadPage(w http.ResponseWriter, r *http.Request, u *user) {
	s.render(w, r, http.StatusOK, "upload", page{Title: "Upload a roster", User: u, Data: uploadData{MaxMB: s.cfg.MaxUpload >> 20}})
}

func (s *Server) uploadFail(w http.ResponseWriter, r *http.Request, u *user, status int, msg, hint string) {
	s.render(w, r, status, "upload", page{Title: "Upload a roster", User: u, Error: msg, Hint: hint,
		Data: uploadData{MaxMB: s.cfg.MaxUpload >> 20}})
}

// upload takes a roster from a multipart form whose first field is the
// page's CSRF token and whose second is the file. The file is streamed to
// disk, never past the size limit, and checked as `wvbatch validate` checks
// a file before the draft is kept.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, u *user) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		s.uploadFail(w, r, u, http.StatusBadRequest, "the upload is not a file form", "use the file button or drop the file on the page")
		return
	}
	// The token arrives first, before any of the file is stored.
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		s.fail(w, r, u, http.StatusForbidden, "the request did not carry this page's security token", "reload the page and try again")
		return
	}
	tok, _ := io.ReadAll(io.LimitReader(part, 256))
	if string(tok) != u.csrf || u.csrf == "" {
		s.fail(w, r, u, http.StatusForbidden, "the request did not carry this page's security token", "reload the page and try again")
		return
	}
	part, err = mr.NextPart()
	if err != nil || part.FormName() != "file" {
		s.uploadFail(w, r, u, http.StatusBadRequest, "no file was uploaded", "pick the roster file with the file button, or drop it on the page")
		return
	}
	// The name as sent: multipart's FileName would quietly drop a path,
	// and a name that is a path is refused instead.
	_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	name, err := uploadName(params["filename"])
	if err != nil {
		var bn *errBadName
		errors.As(err, &bn)
		s.uploadFail(w, r, u, http.StatusBadRequest, bn.msg, bn.hint)
		return
	}
	d := &draft{ID: newDraftID(), Owner: u.Name, Name: name, Created: s.cfg.Now().UTC()}
	dir := s.draftDir(d.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.fail(w, r, u, http.StatusInternalServerError, "cannot store the upload: "+err.Error(), "check the store's folder")
		return
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	n, err := copyFile(s.originalPath(d), io.LimitReader(part, s.cfg.MaxUpload+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || n > s.cfg.MaxUpload:
		s.uploadFail(w, r, u, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("%s is larger than the upload limit of %d MB", name, s.cfg.MaxUpload>>20),
			"split the roster into smaller files, or ask the administrator to raise serve --max-upload")
		return
	case err != nil:
		s.uploadFail(w, r, u, http.StatusBadRequest, "the upload did not arrive whole: "+err.Error(), "try again")
		return
	}
	if err := copyPath(s.correctedPath(d), s.originalPath(d)); err != nil {
		s.fail(w, r, u, http.StatusInternalServerError, "cannot store the upload: "+err.Error(), "check the store's folder")
		return
	}
	if _, err := s.check(r, d); err != nil {
		s.checkFail(w, r, u, d, err)
		return
	}
	if err := s.saveDraft(d); err != nil {
		s.fail(w, r, u, http.StatusInternalServerError, "cannot store the upload: "+err.Error(), "check the store's folder")
		return
	}
	keep = true
	s.cfg.Log.Info().Str("user", u.Name).Str("draft", d.ID).Str("file", name).Int64("bytes", n).Msg("roster uploaded")
	http.Redirect(w, r, "/drafts/"+d.ID, http.StatusSeeOther)
}

// checkFail answers a roster that cannot be read at all, naming the file
// as the user knows it.
func (s *Server) checkFail(w http.ResponseWriter, r *http.Request, u *user, d *draft, err error) {
	var fe *roster.FileError
	if errors.As(err, &fe) {
		c := *fe
		c.Path = d.Name
		s.uploadFail(w, r, u, http.StatusUnprocessableEntity, c.Error(), fe.Hint)
		return
	}
	s.cfg.Log.Error().Err(err).Str("draft", d.ID).Msg("check")
	s.uploadFail(w, r, u, http.StatusInternalServerError, "the roster could not be checked: "+err.Error(), "try again; the server's log says more")
}

func copyFile(dst string, src io.Reader) (int64, error) {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func copyPath(dst, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = copyFile(dst, f)
	return err
}

// checkView is the check page's content.
type checkView struct {
	Draft       *draft
	Res         *importer.Result
	Sum         *report.Summary
	Plan        []report.PlannedOrder
	MorePlan    int
	Columns     []string
	Grid        []gridRow
	MoreRows    int
	Fields      formFields
	OrderErrors []roster.RowError
	Preflight   bool
}

type gridRow struct {
	Row      int
	Cells    []gridCell
	Problems []roster.RowError
}

type gridCell struct {
	Col   int
	Name  string
	Text  string
	Bad   bool
	Label string
}

// formFields are the order-level fields as the form shows them.
type formFields struct {
	Description, ReferencePrefix, TechnicalContact, NotificationContacts, PurchaseOrder, ReportEmails string
}

// draftCache keeps the latest check of each draft and serialises the
// changes of one draft.
type draftCache struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
	views map[string]*checkView
	order []string
}

func (c *draftCache) lock(id string) func() {
	c.mu.Lock()
	if c.locks == nil {
		c.locks = map[string]*sync.Mutex{}
	}
	l, ok := c.locks[id]
	if !ok {
		l = &sync.Mutex{}
		c.locks[id] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (c *draftCache) get(id string, version int) *checkView {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v := c.views[id]; v != nil && v.Draft.Version == version {
		return v
	}
	return nil
}

func (c *draftCache) put(v *checkView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.views == nil {
		c.views = map[string]*checkView{}
	}
	if _, ok := c.views[v.Draft.ID]; !ok {
		c.order = append(c.order, v.Draft.ID)
	}
	c.views[v.Draft.ID] = v
	for len(c.order) > 16 {
		delete(c.views, c.order[0])
		c.order = c.order[1:]
	}
}

// check reads, checks and plans the draft's corrected roster exactly as
// `wvbatch validate` does (with the pre-flight when the server has one),
// and lays out the rows with problems in the roster's own columns.
func (s *Server) check(r *http.Request, d *draft) (*checkView, error) {
	if v := s.drafts.get(d.ID, d.Version); v != nil {
		return v, nil
	}
	opt := importer.Options{Path: s.correctedPath(d), Check: s.cfg.Check()}
	if d.Fields != nil {
		opt.Order = *d.Fields
	}
	// The view keeps a copy of the draft: the caller may change its own
	// (a correction moves its version on) after the check.
	dc := *d
	dc.Edits = slices.Clone(d.Edits)
	v := &checkView{Draft: &dc}
	if s.cfg.Preflight != nil {
		pf, err := s.cfg.Preflight(r.Context(), opt)
		if err != nil {
			return nil, err
		}
		opt.Preflight, v.Preflight = pf, pf != nil
	}
	res, err := importer.Import(r.Context(), opt)
	if err != nil {
		return nil, err
	}
	res.File = d.Name
	v.Res, v.Sum = res, report.NewSummary(res)
	v.Plan = v.Sum.PlanHead(maxPlanRows)
	v.MorePlan = v.Sum.PlanLen() - len(v.Plan)
	v.OrderErrors = res.OrderErrors
	v.Fields = formFields{
		Description: res.Order.Description, ReferencePrefix: res.Order.ReferencePrefix,
		TechnicalContact: res.Order.TechnicalContact, NotificationContacts: strings.Join(res.Order.NotificationContacts, ", "),
		PurchaseOrder: res.Order.PurchaseOrder, ReportEmails: strings.Join(res.Order.ReportEmails, ", "),
	}
	v.Columns = res.Header.Columns
	byRow := map[int][]roster.RowError{}
	var rows []int
	for _, e := range res.Errors {
		if _, ok := byRow[e.Row]; !ok {
			rows = append(rows, e.Row)
		}
		byRow[e.Row] = append(byRow[e.Row], e)
	}
	if len(rows) > maxGridRows {
		v.MoreRows = res.InvalidRows - maxGridRows
		rows = rows[:maxGridRows]
	}
	want := make(map[int]bool, len(rows))
	for _, row := range rows {
		want[row] = true
	}
	cells, err := roster.RowCells(opt.Path, opt.Read, want)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		gr := gridRow{Row: row, Problems: byRow[row]}
		bad := map[string]string{}
		for _, e := range gr.Problems {
			if e.Column != "" {
				bad[e.Column] = e.Message
			}
		}
		texts := cells[row]
		for i, name := range v.Columns {
			c := gridCell{Col: i, Name: name, Label: fmt.Sprintf("row %d, %s", row, cmpName(name, i))}
			if i < len(texts) {
				c.Text = texts[i]
			}
			if _, ok := bad[roster.ColumnName(i)]; ok {
				c.Bad = true
			}
			gr.Cells = append(gr.Cells, c)
		}
		v.Grid = append(v.Grid, gr)
	}
	s.drafts.put(v)
	return v, nil
}

func cmpName(name string, i int) string {
	if name == "" {
		return "column " + roster.ColumnName(i)
	}
	return name
}

// draftOr404 returns the draft the request names, or answers 404.
func (s *Server) draftOr404(w http.ResponseWriter, r *http.Request, u *user) (*draft, bool) {
	d, err := s.loadDraft(r.PathValue("id"), u)
	if err != nil {
		s.fail(w, r, u, http.StatusNotFound, "there is no such upload", "upload the roster again")
		return nil, false
	}
	return d, true
}

func (s *Server) draftPage(w http.ResponseWriter, r *http.Request, u *user) {
	d, ok := s.draftOr404(w, r, u)
	if !ok {
		return
	}
	s.showDraft(w, r, u, d, http.StatusOK, "", "")
}

func (s *Server) showDraft(w http.ResponseWriter, r *http.Request, u *user, d *draft, status int, msg, hint string) {
	v, err := s.check(r, d)
	if err != nil {
		s.checkFail(w, r, u, d, err)
		return
	}
	s.render(w, r, status, "draft", page{Title: d.Name, User: u, Error: msg, Hint: hint, Data: v})
}

// editCells corrects cells of one row: fields c<col> hold the new texts;
// cells whose text did not change are left alone. The whole roster is
// checked again, so a duplicate the correction makes or ends is seen.
func (s *Server) editCells(w http.ResponseWriter, r *http.Request, u *user) {
	unlock := s.drafts.lock(r.PathValue("id"))
	defer unlock()
	d, ok := s.draftOr404(w, r, u)
	if !ok {
		return
	}
	row, err := strconv.Atoi(r.PostFormValue("row"))
	if err != nil || row < 1 {
		s.showDraft(w, r, u, d, http.StatusBadRequest, "which row? the form named none", "")
		return
	}
	cur, err := roster.RowCells(s.correctedPath(d), roster.ReadOptions{}, map[int]bool{row: true})
	if err != nil {
		s.checkFail(w, r, u, d, err)
		return
	}
	v, err := s.check(r, d)
	if err != nil {
		s.checkFail(w, r, u, d, err)
		return
	}
	texts, ok := cur[row]
	if !ok || row <= v.Res.Header.Row {
		s.showDraft(w, r, u, d, http.StatusBadRequest, fmt.Sprintf("row %d is not a visitor row of the roster", row), "")
		return
	}
	var edits []roster.CellEdit
	for key, vals := range r.PostForm {
		if key == "csrf" || key == "row" {
			continue
		}
		col, err := strconv.Atoi(strings.TrimPrefix(key, "c"))
		if !strings.HasPrefix(key, "c") || err != nil || col < 0 || col >= len(v.Columns) || len(vals) != 1 {
			s.showDraft(w, r, u, d, http.StatusBadRequest, fmt.Sprintf("there is no column %q in the roster", key), "")
			return
		}
		text := strings.TrimSpace(vals[0])
		if len(text) > maxCellLen || strings.ContainsFunc(text, func(r rune) bool { return r < ' ' && r != '\t' }) {
			s.showDraft(w, r, u, d, http.StatusBadRequest, fmt.Sprintf("the value for row %d, %s is too long or holds control characters", row, cmpName(v.Columns[col], col)), "type it again")
			return
		}
		old := ""
		if col < len(texts) {
			old = texts[col]
		}
		if text != old {
			edits = append(edits, roster.CellEdit{Row: row, Col: col, Text: text})
		}
	}
	if len(edits) > 0 && d.ext() != ".csv" && d.ext() != ".txt" {
		if st, err := os.Stat(s.originalPath(d)); err == nil && st.Size() > s.cfg.MaxEditWorkbook {
			s.showDraft(w, r, u, d, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("%s is too large to correct on the page (more than %d MB)", d.Name, s.cfg.MaxEditWorkbook>>20),
				"fix the flagged cells in Excel and upload the workbook again, or save it as CSV")
			return
		}
	}
	if len(edits) > 0 {
		for _, e := range edits {
			i := slices.IndexFunc(d.Edits, func(x roster.CellEdit) bool { return x.Row == e.Row && x.Col == e.Col })
			if i >= 0 {
				d.Edits[i] = e
			} else {
				d.Edits = append(d.Edits, e)
			}
		}
		if err := roster.WriteEdited(s.correctedPath(d), s.originalPath(d), roster.ReadOptions{}, d.Edits); err != nil {
			s.checkFail(w, r, u, d, err)
			return
		}
		d.Version++
		if err := s.saveDraft(d); err != nil {
			s.fail(w, r, u, http.StatusInternalServerError, "cannot keep the correction: "+err.Error(), "")
			return
		}
	}
	if r.Header.Get("X-Fragment") != "" {
		s.showDraft(w, r, u, d, http.StatusOK, "", "")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/drafts/%s#check", d.ID), http.StatusSeeOther)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// editFields keeps the order-level fields of the form; the roster is
// checked again with them (a reference prefix changes the plan's
// references).
func (s *Server) editFields(w http.ResponseWriter, r *http.Request, u *user) {
	unlock := s.drafts.lock(r.PathValue("id"))
	defer unlock()
	d, ok := s.draftOr404(w, r, u)
	if !ok {
		return
	}
	f := roster.OrderFields{
		Description:          strings.TrimSpace(r.PostFormValue("description")),
		ReferencePrefix:      strings.TrimSpace(r.PostFormValue("reference_prefix")),
		TechnicalContact:     strings.TrimSpace(r.PostFormValue("technical_contact")),
		NotificationContacts: splitList(r.PostFormValue("notification_contacts")),
		PurchaseOrder:        strings.TrimSpace(r.PostFormValue("purchase_order")),
		ReportEmails:         splitList(r.PostFormValue("report_emails")),
	}
	for _, v := range []string{f.Description, f.ReferencePrefix, f.TechnicalContact, f.PurchaseOrder} {
		if len(v) > maxCellLen {
			s.showDraft(w, r, u, d, http.StatusBadRequest, "a field of the order is too long", "")
			return
		}
	}
	d.Fields = &f
	d.Version++
	if err := s.saveDraft(d); err != nil {
		s.fail(w, r, u, http.StatusInternalServerError, "cannot keep the fields: "+err.Error(), "")
		return
	}
	http.Redirect(w, r, "/drafts/"+d.ID+"#fields", http.StatusSeeOther)
}

// downloadCorrected sends the roster with the corrections: the upload's
// own columns, order and sheets.
func (s *Server) downloadCorrected(w http.ResponseWriter, r *http.Request, u *user) {
	d, ok := s.draftOr404(w, r, u)
	if !ok {
		return
	}
	sendFile(w, r, s.correctedPath(d), d.Name)
}

// sendFile sends a file as a download named name.
func sendFile(w http.ResponseWriter, r *http.Request, path, name string) {
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	ct := mime.TypeByExtension(filepath.Ext(name))
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".csv":
		ct = "text/csv; charset=utf-8"
	case ".json":
		ct = "application/json"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", st.ModTime(), f)
}
