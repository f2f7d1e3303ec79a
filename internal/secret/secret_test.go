package secret

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookup(t *testing.T) {
	dir := t.TempDir()
	const s3cret = "s3cret-Value-42"
	tight := write(t, dir, "tight", s3cret+"\n", 0o600)
	crlf := write(t, dir, "crlf", s3cret+"\r\n\n", 0o600)
	loose := write(t, dir, "loose", s3cret, 0o644)
	empty := write(t, dir, "empty", "\n", 0o600)
	two := write(t, dir, "two", s3cret+"\nsecond-line-xyz\n", 0o600)
	big := write(t, dir, "big", strings.Repeat("x", MaxSize+1), 0o600)
	creds := t.TempDir()
	write(t, creds, "X_SECRET", s3cret+"\n", 0o400)

	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    string
		from    string
		warn    bool
		wantErr string
	}{
		{"variable", map[string]string{"X_SECRET": s3cret}, s3cret, "$X_SECRET", false, ""},
		{"file, newline trimmed", map[string]string{"X_SECRET_FILE": tight}, s3cret, "X_SECRET_FILE (" + tight + ")", false, ""},
		{"file, CRLF trimmed", map[string]string{"X_SECRET_FILE": crlf}, s3cret, "X_SECRET_FILE", false, ""},
		{"file others may read", map[string]string{"X_SECRET_FILE": loose}, s3cret, "X_SECRET_FILE", true, ""},
		{"systemd credential", map[string]string{CredentialsDirEnv: creds}, s3cret, "credential " + filepath.Join(creds, "X_SECRET"), false, ""},
		{"variable wins over credential", map[string]string{"X_SECRET": "other", CredentialsDirEnv: creds}, "other", "$X_SECRET", false, ""},
		{"credential folder without it", map[string]string{CredentialsDirEnv: dir}, "", "", false, ""},
		{"unset", nil, "", "", false, ""},
		{"both", map[string]string{"X_SECRET": s3cret, "X_SECRET_FILE": tight}, "", "", false, "both X_SECRET and X_SECRET_FILE"},
		{"missing file", map[string]string{"X_SECRET_FILE": filepath.Join(dir, "nope")}, "", "", false, "no file " + filepath.Join(dir, "nope")},
		{"folder", map[string]string{"X_SECRET_FILE": dir}, "", "", false, "is a folder"},
		{"empty file", map[string]string{"X_SECRET_FILE": empty}, "", "", false, "is empty"},
		{"two lines", map[string]string{"X_SECRET_FILE": two}, "", "", false, "more than one line"},
		{"too big", map[string]string{"X_SECRET_FILE": big}, "", "", false, "larger than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Lookup(envOf(tc.env), "X_SECRET")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				for _, leak := range []string{s3cret, "second-line-xyz"} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("the error %q holds the secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Reveal() != tc.want || !strings.HasPrefix(v.From, tc.from) {
				t.Errorf("got %q from %q, want %q from %q", v.Reveal(), v.From, tc.want, tc.from)
			}
			if (v.Warning != "") != tc.warn {
				t.Errorf("warning %q, want one: %v", v.Warning, tc.warn)
			}
			if tc.warn && !strings.Contains(v.Warning, "chmod 600 "+loose) {
				t.Errorf("warning %q does not say how to fix it", v.Warning)
			}
			for _, s := range []string{v.String(), fmt.Sprintf("%v %+v %#v", v, v, v), v.Warning, v.From} {
				if strings.Contains(s, s3cret) {
					t.Errorf("%q shows the secret", s)
				}
			}
		})
	}
}

func TestGetenv(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "tok", "tok-123\n", 0o640)
	var warned []string
	get, err := Getenv(envOf(map[string]string{"T_FILE": p, "OTHER": "o"}), func(w string) { warned = append(warned, w) }, "T", "U")
	if err != nil {
		t.Fatal(err)
	}
	if get("T") != "tok-123" || get("U") != "" || get("OTHER") != "o" {
		t.Errorf("T=%q U=%q OTHER=%q", get("T"), get("U"), get("OTHER"))
	}
	if len(warned) != 1 || !strings.Contains(warned[0], p) {
		t.Errorf("warnings %q, want one naming %s", warned, p)
	}
	if _, err := Getenv(envOf(map[string]string{"T_FILE": filepath.Join(dir, "gone")}), nil, "T"); err == nil {
		t.Error("a missing file gave no error")
	}
}
