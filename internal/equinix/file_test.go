package equinix

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFilePath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		name, explicit string
		env            map[string]string
		want           string
		wantExplicit   bool
	}{
		{"explicit", "/etc/wv.yaml", map[string]string{"HOME": "/h"}, "/etc/wv.yaml", true},
		{"xdg", "", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/wvbatch/config.yaml", false},
		{"home", "", map[string]string{"HOME": "/h"}, "/h/.config/wvbatch/config.yaml", false},
		{"none", "", nil, "", false},
	} {
		got, explicit := FilePath(env(c.env), c.explicit)
		if got != c.want || explicit != c.wantExplicit {
			t.Errorf("%s: FilePath = %q, %v; want %q, %v", c.name, got, explicit, c.want, c.wantExplicit)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	if fc, err := LoadFile(missing, false); err != nil || fc != (File{}) {
		t.Errorf("a default file that does not exist: %+v, %v; want empty", fc, err)
	}
	var fe *FileError
	if _, err := LoadFile(missing, true); !errors.As(err, &fe) || fe.Hint != "check the --config path" {
		t.Errorf("a named file that does not exist: %v", err)
	}
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if fc, err := LoadFile(write("  \n"), true); err != nil || fc != (File{}) {
		t.Errorf("a blank file: %+v, %v", fc, err)
	}
	if _, err := LoadFile(write("endpoint: x\nclient_secrt: y\n"), true); !errors.As(err, &fe) || !strings.Contains(fe.Hint, "client_secret") ||
		!strings.Contains(err.Error(), "client_secrt") {
		t.Errorf("an unknown key: %v", err)
	}
	fc, err := LoadFile(write("endpoint: https://e.example\nrate: 2\nsmtp_from: a@example.com\nretention: 90d\n"), true)
	if err != nil || fc.Endpoint != "https://e.example" || fc.Rate != 2 || fc.SMTPFrom != "a@example.com" || fc.Retention != "90d" {
		t.Errorf("LoadFile = %+v, %v", fc, err)
	}
}

func TestConfigMergeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []string
	warn := func(w string) { warned = append(warned, w) }
	c := Config{ClientID: "env-id"}
	fc := File{Endpoint: " https://f.example ", ClientID: "file-id", ClientSecret: "s3cret", Timeout: "45", Rate: 3}
	if err := c.MergeFile(path, fc, warn); err != nil {
		t.Fatal(err)
	}
	want := Config{Endpoint: "https://f.example", ClientID: "env-id", ClientSecret: "s3cret", Timeout: 45 * time.Second, RateLimit: 3}
	if c.Endpoint != want.Endpoint || c.ClientID != want.ClientID || c.ClientSecret != want.ClientSecret || c.Timeout != want.Timeout || c.RateLimit != want.RateLimit {
		t.Errorf("merged %#v, want %#v", c, want)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "chmod 600 "+path) || strings.Contains(warned[0], "s3cret") {
		t.Errorf("warnings %q", warned)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	warned = nil
	var fe *FileError
	if err := (&Config{}).MergeFile(path, File{Token: "t", Timeout: "soon"}, warn); !errors.As(err, &fe) || fe.Hint != "write it like 30 or 30s" {
		t.Errorf("a bad timeout: %v", err)
	}
	if len(warned) != 0 {
		t.Errorf("a file only its owner reads warned: %q", warned)
	}
}
