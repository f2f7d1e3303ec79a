package equinix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; empty: New succeeds
		is      error
	}{
		{name: "client credentials", cfg: Config{ClientID: "id", ClientSecret: "secret"}},
		{name: "ready token", cfg: Config{Token: "tok"}},
		{name: "no credentials", cfg: Config{}, wantErr: "--sandbox", is: ErrNoCredentials},
		{name: "blank credentials", cfg: Config{ClientID: "  ", ClientSecret: " "}, is: ErrNoCredentials},
		{name: "id without secret", cfg: Config{ClientID: "id"}, wantErr: EnvClientSecret},
		{name: "secret without id", cfg: Config{ClientSecret: "s"}, wantErr: EnvClientID},
		{name: "ftp endpoint", cfg: Config{Token: "t", Endpoint: "ftp://api.equinix.com"}, wantErr: "scheme"},
		{name: "endpoint without host", cfg: Config{Token: "t", Endpoint: "https://"}, wantErr: "no host"},
		{name: "endpoint with query", cfg: Config{Token: "t", Endpoint: "https://x.test/?a=b"}, wantErr: "query"},
		{name: "negative timeout", cfg: Config{Token: "t", Timeout: -time.Second}, wantErr: "negative"},
		{name: "retry max below base", cfg: Config{Token: "t", RetryBase: time.Minute, RetryMax: time.Second}, wantErr: "shorter"},
		{name: "sandbox over http", cfg: Config{Token: "t", Endpoint: "http://127.0.0.1:8080/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.cfg)
			if tt.wantErr == "" && tt.is == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if c.cfg.Timeout != TimeoutDefault || c.cfg.MaxRetries != MaxRetriesDefault || !strings.HasPrefix(c.cfg.Endpoint, "http") {
					t.Errorf("defaults not applied: %v", c.cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{name: "empty", env: nil, want: Config{}},
		{
			name: "all",
			env: map[string]string{
				EnvEndpoint: "https://sandboxapi.equinix.com", EnvClientID: " id ", EnvClientSecret: "sec",
				EnvToken: "tok", EnvTimeout: "45",
			},
			want: Config{Endpoint: "https://sandboxapi.equinix.com", ClientID: "id", ClientSecret: "sec", Token: "tok", Timeout: 45 * time.Second},
		},
		{name: "duration", env: map[string]string{EnvTimeout: "1m30s"}, want: Config{Timeout: 90 * time.Second}},
		{name: "fractional seconds", env: map[string]string{EnvTimeout: "2.5"}, want: Config{Timeout: 2500 * time.Millisecond}},
		{name: "words", env: map[string]string{EnvTimeout: "thirty"}, wantErr: EnvTimeout},
		{name: "zero", env: map[string]string{EnvTimeout: "0"}, wantErr: "positive"},
		{name: "negative", env: map[string]string{EnvTimeout: "-5s"}, wantErr: "positive"},
		{name: "two days in seconds", env: map[string]string{EnvTimeout: "172800"}, wantErr: "longer than a day"},
		{name: "two days as a duration", env: map[string]string{EnvTimeout: "48h"}, wantErr: "longer than a day"},
		{name: "seconds beyond any duration", env: map[string]string{EnvTimeout: "1e300"}, wantErr: "longer than a day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
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
				got.Token != tt.want.Token || got.Timeout != tt.want.Timeout {
				t.Errorf("got %+v, want %+v", got, tt.want) // String redacts both alike
			}
		})
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	t.Parallel()
	cfg := Config{ClientID: "my-client", ClientSecret: testSecret, Token: "ready-token-9876"}
	var logged bytes.Buffer
	l := zerolog.New(&logged)
	l.Info().Object("config", cfg).Msg("x")
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", cfg),
		"%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg),
		//lint:ignore S1025 the %s verb is what is under test
		"%s &": fmt.Sprintf("%s", &cfg),
		"json": string(js),
		"log":  logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, testSecret) || strings.Contains(out, "ready-token-9876") {
			t.Errorf("%s shows a secret: %s", name, out)
		}
		if !strings.Contains(out, "REDACTED") || !strings.Contains(out, "my-client") {
			t.Errorf("%s = %s, want the client id and REDACTED", name, out)
		}
	}
	if !strings.Contains(cfg.String(), "client_secret=REDACTED") {
		t.Errorf("String() = %s, want client_secret=REDACTED", cfg)
	}
}

func TestNormalEndpoint(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://API.Equinix.com/":     "https://api.equinix.com",
		" https://api.equinix.com ":    "https://api.equinix.com",
		"HTTP://Sandbox.Example:8443/": "http://sandbox.example:8443",
		"https://api.equinix.com/Base": "https://api.equinix.com/Base",
		"not a url":                    "not a url",
	} {
		if got := NormalEndpoint(in); got != want {
			t.Errorf("NormalEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}
