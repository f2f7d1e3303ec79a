package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
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
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
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

// TestBrowserUploadFix signs in, uploads the sample roster with errors,
// fixes two flagged cells in the grid and downloads the corrected roster,
// in a real browser, checking it row by row.
func TestBrowserUploadFix(t *testing.T) {
	ctx := newBrowser(t)
	out := browserOut(t)
	te := newTestEnv(t, nil)
	base := te.ts.URL
	sample := filepath.Join("..", "..", "samples", "contractors-with-errors.csv")
	abs, _ := filepath.Abs(sample)
	downloads := t.TempDir()

	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
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
	got := filepath.Join(downloads, "contractors-with-errors.csv")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(got); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the corrected roster was not downloaded")
		}
		time.Sleep(100 * time.Millisecond)
	}
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
}
