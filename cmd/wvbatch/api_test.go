package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/equinix"
)

// TestAPIConfig checks where the Equinix settings come from: flags win over
// the EQUINIX_API_* variables, which win over the config file.
func TestAPIConfig(t *testing.T) {
	t.Parallel()
	const file = `endpoint: https://file.example
client_id: file-id
client_secret: file-secret
token: file-token
timeout: "45"
rate: 3
`
	tests := []struct {
		name    string
		env     map[string]string
		file    string // written to $XDG_CONFIG_HOME/wvbatch/config.yaml when set
		flags   apiFlags
		want    equinix.Config
		wantErr string
	}{
		{name: "nothing", want: equinix.Config{}},
		{
			name: "environment",
			env: map[string]string{"EQUINIX_API_ENDPOINT": "https://env.example", "EQUINIX_API_CLIENTID": "env-id",
				"EQUINIX_API_CLIENTSECRET": "env-secret", "EQUINIX_API_TOKEN": "env-token", "EQUINIX_API_TIMEOUT": "1m"},
			want: equinix.Config{Endpoint: "https://env.example", ClientID: "env-id", ClientSecret: "env-secret", Token: "env-token", Timeout: time.Minute},
		},
		{
			name: "config file",
			file: file,
			want: equinix.Config{Endpoint: "https://file.example", ClientID: "file-id", ClientSecret: "file-secret", Token: "file-token",
				Timeout: 45 * time.Second, RateLimit: 3},
		},
		{
			name: "environment over config file",
			env:  map[string]string{"EQUINIX_API_CLIENTID": "env-id", "EQUINIX_API_CLIENTSECRET": "env-secret", "EQUINIX_API_TIMEOUT": "20"},
			file: file,
			want: equinix.Config{Endpoint: "https://file.example", ClientID: "env-id", ClientSecret: "env-secret", Token: "file-token",
				Timeout: 20 * time.Second, RateLimit: 3},
		},
		{
			name:  "flags over both",
			env:   map[string]string{"EQUINIX_API_ENDPOINT": "https://env.example", "EQUINIX_API_CLIENTID": "env-id"},
			file:  file,
			flags: apiFlags{endpoint: "https://flag.example", clientID: "flag-id", rate: -1, timeout: 5 * time.Second},
			want: equinix.Config{Endpoint: "https://flag.example", ClientID: "flag-id", ClientSecret: "file-secret", Token: "file-token",
				Timeout: 5 * time.Second, RateLimit: -1},
		},
		{name: "unknown key", file: "client_secrett: x\n", wantErr: "field client_secrett not found"},
		{name: "bad timeout", file: "timeout: soon\n", wantErr: `timeout "soon"`},
		{name: "explicit file missing", flags: apiFlags{configFile: "missing.yaml"}, wantErr: "missing.yaml"},
		{name: "bad environment", env: map[string]string{"EQUINIX_API_TIMEOUT": "forever"}, wantErr: "EQUINIX_API_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			vars := map[string]string{"XDG_CONFIG_HOME": dir, "HOME": dir}
			for k, v := range tt.env {
				vars[k] = v
			}
			if tt.file != "" {
				path := filepath.Join(dir, "wvbatch", "config.yaml")
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.flags.configFile != "" {
				tt.flags.configFile = filepath.Join(dir, tt.flags.configFile)
			}
			e := &env{getenv: func(k string) string { return vars[k] }, stdout: io.Discard, stderr: io.Discard}
			got, err := tt.flags.clientConfig(e)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Endpoint != tt.want.Endpoint || got.ClientID != tt.want.ClientID || got.ClientSecret != tt.want.ClientSecret ||
				got.Token != tt.want.Token || got.Timeout != tt.want.Timeout || got.RateLimit != tt.want.RateLimit {
				t.Errorf("config\n%+v\nwant\n%+v", got, tt.want) // both redacted alike; compare the fields above
			}
		})
	}
}

// TestConnect checks that nothing goes to Equinix without credentials, and
// that --sandbox needs none.
func TestConnect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := &env{getenv: func(k string) string {
		return map[string]string{"XDG_CONFIG_HOME": dir, "EQUINIX_API_CLIENTSECRET": "a-secret-only"}[k]
	}, stdout: io.Discard, stderr: io.Discard}

	_, err := (&apiFlags{}).connect(e, nil)
	var ce *cliError
	if !errors.As(err, &ce) || ce.code != exitUsage || !strings.Contains(err.Error(), "client id is empty") {
		t.Fatalf("connect with a secret and no id = %v, want a usage error", err)
	}
	e.getenv = func(k string) string { return map[string]string{"XDG_CONFIG_HOME": dir}[k] }
	_, err = (&apiFlags{}).connect(e, nil)
	if !errors.As(err, &ce) || ce.code != exitUsage || !errors.Is(err, equinix.ErrNoCredentials) || !strings.Contains(ce.hint, "--sandbox") {
		t.Fatalf("connect without credentials = %v, want a usage error pointing at --sandbox", err)
	}

	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	conn, err := (&apiFlags{sandbox: true, sandboxLax: true}).connect(e, &now)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.close()
	if conn.sandbox == nil || !strings.HasPrefix(conn.endpoint, "http://127.0.0.1:") {
		t.Fatalf("connect --sandbox: %+v", conn)
	}
	u, err := conn.client.LookupUser(t.Context(), "anyone.at.all")
	if err != nil || u.Status != equinix.UserActive {
		t.Fatalf("a permissive sandbox looked up %+v, %v; want an ACTIVE user", u, err)
	}
}

// TestConfigFileWithSecretsReadableByOthers warns about a config file that
// holds credentials and that others may read.
func TestConfigFileWithSecretsReadableByOthers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		body string
		mode os.FileMode
		warn bool
	}{
		{"secret, readable by all", "client_secret: s3cret\n", 0o644, true},
		{"token, readable by the group", "token: t0ken\n", 0o640, true},
		{"secret, owner only", "client_secret: s3cret\n", 0o600, false},
		{"no secrets, readable by all", "endpoint: https://sandboxapi.equinix.com\n", 0o644, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			e := &env{getenv: func(string) string { return "" }, log: zerolog.New(&logs)}
			if _, err := (&apiFlags{configFile: path}).clientConfig(e); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), "chmod 600"); got != tt.warn {
				t.Errorf("warned %v, want %v: %s", got, tt.warn, logs.String())
			}
			if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), "t0ken") {
				t.Errorf("the warning shows the secret: %s", logs.String())
			}
		})
	}
}
