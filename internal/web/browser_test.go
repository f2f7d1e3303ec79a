package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// chromiumPath is Debian's Chromium, which the browser tests drive.
const chromiumPath = "/usr/bin/chromium"

// browserOut is the folder the browser tests write their screenshots to
// (WVBATCH_BROWSER_OUT, else testout/browser in this package's folder).
func browserOut(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WVBATCH_BROWSER_OUT")
	if dir == "" {
		dir = filepath.Join("testout", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts a headless Chromium with a fresh profile. Without
// Chromium the test is skipped, except under CI, where it fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: .ci/run installs the chromium package", chromiumPath)
		}
		t.Skipf("browser test skipped: %s is missing (apt-get install chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	// Steps get a deadline of their own; a test that fails leaves a
	// screenshot of where it was.
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if buf, err := chromedp.CaptureScreenshot()(sctx, chromedp.FromContext(ctx).Target); err == nil {
				os.WriteFile(filepath.Join(browserOut(t), "failed-"+t.Name()+".png"), buf, 0o644)
			}
		}
		cancelT()
	})
	return ctx
}

// shot saves a screenshot of the window as out/name.png.
func shot(out, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, name+".png"), buf, 0o644)
	})
}

// waitText waits until the element's text is want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e!==null&&e.textContent.trim()===%q})()`, sel, want),
		chromedp.WithPollingTimeout(20*time.Second))
}

func textOf(ctx context.Context, sel string) (string, error) {
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	return strings.TrimSpace(s), err
}

// signInBrowser signs in through the form.
func signInBrowser(base, name, out string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		shot(out, "01-sign-in"),
		chromedp.Click(chromedp.CSS("#signin")),
	)
}

// fixCell types a new value into a grid cell and presses Enter, as a
// person does, and waits for the check to come back with one row less.
func fixCell(ctx context.Context, row, col int, value string) error {
	sel := fmt.Sprintf(`input[data-row="%d"][data-col="%d"]`, row, col)
	before, err := textOf(ctx, "#n-invalid")
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(before)
	return chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.Clear(chromedp.CSS(sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value+kb.Enter),
		waitText("#n-invalid", strconv.Itoa(n-1)),
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf("#row-%d", row))),
	)
}

// TestBrowserOrder is what a coordinator does, in a real browser: sign in,
// upload the sample roster with errors, fix two flagged cells in the grid,
// download the corrected roster (checked row by row), order against the
// sandbox, watch the progress reach the end, and download the report,
// checked row by row against the check and the sandbox's orders.
func TestBrowserOrder(t *testing.T) {
	ctx := newBrowser(t)
	out := browserOut(t)
	oe := newOrderEnv(t, sandbox.Config{Latency: 400 * time.Millisecond}, 1)
	te := oe.testEnv
	base := te.ts.URL
	sample := filepath.Join("..", "..", "samples", "contractors-with-errors.csv")
	abs, _ := filepath.Abs(sample)
	downloads := t.TempDir()
	dl := watchDownloads(t, ctx)

	events := true
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: &events,
			})
			return err
		}),
		signInBrowser(base, "otto", out),
		chromedp.WaitVisible(chromedp.CSS("#upload-form")),
		shot(out, "02-upload"),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{abs}),
		chromedp.Click(chromedp.CSS("#upload")),
		chromedp.WaitVisible(chromedp.CSS("#grid")),
		shot(out, "03-check"),
	)
	if err != nil {
		t.Fatal(err)
	}
	want, err := importer.Import(context.Background(), importer.Options{Path: sample, Check: roster.CheckConfig{Now: func() time.Time { return testNow }}})
	if err != nil {
		t.Fatal(err)
	}
	if invalid, _ := textOf(ctx, "#n-invalid"); invalid != strconv.Itoa(want.InvalidRows) {
		t.Fatalf("the check shows %s rows with problems; validate finds %d", invalid, want.InvalidRows)
	}
	// Row 6: "D4vid" has a digit. Row 4: the cage is missing.
	if err := fixCell(ctx, 6, 7, "David"); err != nil {
		t.Fatalf("fix row 6: %v", err)
	}
	if err := chromedp.Do(ctx, shot(out, "04-fixed-one")); err != nil {
		t.Fatal(err)
	}
	if err := fixCell(ctx, 4, 1, "AM1:01:000111"); err != nil {
		t.Fatalf("fix row 4: %v", err)
	}
	if err := chromedp.Do(ctx, shot(out, "05-fixed-two")); err != nil {
		t.Fatal(err)
	}
	if got, _ := textOf(ctx, "#n-valid"); got != strconv.Itoa(want.ValidRows+2) {
		t.Errorf("valid rows after two fixes: %s; want %d", got, want.ValidRows+2)
	}

	// The corrected roster, downloaded by the browser.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#dl-corrected"))); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(downloads, dl.wait(t, "contractors-with-errors.csv"))
	checkCorrected(t, sample, got, map[string]string{"6/7": "David", "4/1": "AM1:01:000111"})

	// The same page on a phone-width screen.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#grid")),
		shot(out, "06-check-phone"),
	)
	if err != nil {
		t.Fatal(err)
	}

	// Order: the confirmation, then the progress, then the result.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.WaitVisible(chromedp.CSS("#order")),
		chromedp.Click(chromedp.CSS("#order")),
		chromedp.WaitVisible(chromedp.CSS("#place")),
		shot(out, "07-confirm"),
	)
	if err != nil {
		t.Fatal(err)
	}
	will, _ := textOf(ctx, "#will")
	wont, _ := textOf(ctx, "#wont")
	if !strings.Contains(will, "2 orders for 5 visitors") || !strings.Contains(wont, strconv.Itoa(want.InvalidRows-2)+" rows are invalid") {
		t.Errorf("the confirmation says %q / %q", will, wont)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#place")),
		chromedp.WaitVisible(chromedp.CSS("#progress")),
		shot(out, "08-progress"),
		chromedp.WaitNotPresent(chromedp.CSS("#progress")),
		chromedp.WaitVisible(chromedp.CSS("#rows")),
		shot(out, "09-result"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := textOf(ctx, "#run-state"); got != "done" {
		t.Errorf("run state %q; want done", got)
	}
	sbOrders := oe.sb.Orders()
	if len(sbOrders) != 2 {
		t.Fatalf("the sandbox holds %d orders; want 2", len(sbOrders))
	}
	ids := map[string]bool{}
	for _, o := range sbOrders {
		ids[o.ID] = true
	}

	// The report workbook, downloaded by the browser: every row's outcome.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#dl-report"))); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(downloads, dl.wait(t, "contractors-with-errors-report.xlsx"))
	f, err := excelize.OpenFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	fixedValid := map[int]bool{6: true, 4: true}
	invalidRows := map[int]bool{}
	for _, e := range want.Errors {
		invalidRows[e.Row] = true
	}
	seen := 0
	for i, r := range rows[1:] {
		row := i + 2
		cell := func(name string) string {
			if j, ok := col[name]; ok && j < len(r) {
				return r[j]
			}
			return ""
		}
		status, order := cell("Status"), cell("Order")
		switch {
		case invalidRows[row] && !fixedValid[row]:
			if status != "invalid" || cell("Problems") == "" {
				t.Errorf("report row %d: %q, problems %q; want invalid with its problem", row, status, cell("Problems"))
			}
		default:
			seen++
			if status != "ordered" || !ids[order] {
				t.Errorf("report row %d: %q order %q; want ordered with one of the sandbox's orders", row, status, order)
			}
		}
	}
	if seen != 5 {
		t.Errorf("%d rows ordered in the report; want 5", seen)
	}
}

// downloads hears from the browser of the downloads it begins and ends
// (with SetDownloadBehavior's EventsEnabled).
type downloads struct {
	mu    sync.Mutex
	names map[string]string // download id → file name
	done  map[string]bool   // file names downloaded whole
	more  chan struct{}     // closed (and replaced) when one is
}

func watchDownloads(t *testing.T, ctx context.Context) *downloads {
	d := &downloads{names: map[string]string{}, done: map[string]bool{}, more: make(chan struct{})}
	err := chromedp.ListenBrowser(ctx, func(ev any) {
		d.mu.Lock()
		defer d.mu.Unlock()
		switch ev := ev.(type) {
		case *browser.EventDownloadWillBegin:
			d.names[ev.GUID] = ev.SuggestedFilename
		case *browser.EventDownloadProgress:
			if ev.State == browser.DownloadProgressStateCompleted {
				d.done[d.names[ev.GUID]] = true
				close(d.more)
				d.more = make(chan struct{})
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// wait waits, at most 20 seconds, until the browser says it downloaded
// name whole, and returns name.
func (d *downloads) wait(t *testing.T, name string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		d.mu.Lock()
		done, more := d.done[name], d.more
		d.mu.Unlock()
		if done {
			return name
		}
		select {
		case <-more:
		case <-timeout:
			t.Fatalf("%s was not downloaded", name)
		}
	}
}

// TestBrowserReloadRestart drops a roster of 9 orders on the upload page,
// orders it and, while the orders are placed, reloads the page and then
// restarts the server: the page follows the run to its end and every order
// is placed once.
func TestBrowserReloadRestart(t *testing.T) {
	ctx := newBrowser(t)
	out := browserOut(t)
	oe := newOrderEnv(t, sandbox.Config{Latency: 300 * time.Millisecond}, 1)
	book := base64.StdEncoding.EncodeToString(sample(t, "contractors.xlsx"))
	// The roster is dropped on the page, as a person drags it from a folder.
	drop := fmt.Sprintf(`(function(){
		var b = atob(%q), a = new Uint8Array(b.length);
		for (var i = 0; i < b.length; i++) { a[i] = b.charCodeAt(i); }
		var dt = new DataTransfer();
		dt.items.add(new File([a], "contractors.xlsx"));
		document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true;
	})()`, book)
	err := chromedp.Do(ctx,
		signInBrowser(oe.ts.URL, "otto", t.TempDir()),
		chromedp.WaitVisible(chromedp.CSS("#upload-form")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](drop)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS("#order")),
		chromedp.Click(chromedp.CSS("#order")),
		chromedp.WaitVisible(chromedp.CSS("#place")),
		chromedp.Click(chromedp.CSS("#place")),
		chromedp.WaitVisible(chromedp.CSS("#progress")),
		chromedp.Poll[chromedp.Void](`Number(document.querySelector("#p-done").textContent) >= 1`, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#progress")),
		chromedp.Poll[chromedp.Void](`Number(document.querySelector("#p-done").textContent) >= 2`, chromedp.WithPollingTimeout(30*time.Second)),
		shot(out, "10-reloaded"),
	)
	if err != nil {
		t.Fatal(err)
	}
	total, _ := textOf(ctx, "#p-total")
	// Restart the server while orders are left.
	oe.cancel()
	oe.srv.Wait()
	placed := len(oe.sb.Orders())
	t.Logf("%d of %s orders placed when the server stopped", placed, total)
	if strconv.Itoa(placed) == total {
		t.Fatal("every order was placed before the restart: the test proves nothing")
	}
	srv2, err := New(oe.cfg)
	if err != nil {
		t.Fatal(err)
	}
	oe.ts.Config.Handler = srv2
	oe.start(srv2)
	err = chromedp.Do(ctx,
		chromedp.WaitNotPresent(chromedp.CSS("#progress")),
		chromedp.WaitVisible(chromedp.CSS("#rows")),
		shot(out, "11-after-restart"),
	)
	if err != nil {
		t.Fatal(err)
	}
	refs := oe.references()
	if strconv.Itoa(len(refs)) != total {
		t.Errorf("the sandbox holds %d references; want %s", len(refs), total)
	}
	for ref, n := range refs {
		if n != 1 {
			t.Errorf("reference %s ordered %d times", ref, n)
		}
	}
	if got, _ := textOf(ctx, "#rows-ok"); !strings.HasPrefix(got, "120 of 120") {
		t.Errorf("rows ordered: %q; want 120 of 120", got)
	}
}
