package equinix

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is the config file's shape (config.yaml): the API settings, and the
// settings of report emails and retention that other parts of wvbatch read
// from the same file.
type File struct {
	Endpoint     string  `yaml:"endpoint"`
	ClientID     string  `yaml:"client_id"`
	ClientSecret string  `yaml:"client_secret"`
	Token        string  `yaml:"token"`
	Timeout      string  `yaml:"timeout"`
	Rate         float64 `yaml:"rate"`
	SMTPURL      string  `yaml:"smtp_url"`
	SMTPFrom     string  `yaml:"smtp_from"`
	// Retention, when set (90d), makes the daemon and tick prune runs
	// that ended longer ago, once a day.
	Retention string `yaml:"retention"`
}

// FileError is a config file that cannot be read or used; Hint says how
// to fix it. It never holds a secret of the file.
type FileError struct {
	Err  error
	Hint string
}

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// FilePath is the config file to read: explicit when given, else
// $XDG_CONFIG_HOME/wvbatch/config.yaml (~/.config when XDG_CONFIG_HOME is
// not set), which need not exist; "" when there is no home either. It says
// whether the file was named explicitly.
func FilePath(getenv func(string) string, explicit string) (string, bool) {
	if explicit != "" {
		return explicit, true
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", false
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "wvbatch", "config.yaml"), false
}

// LoadFile reads the config file at path. A file that does not exist is
// empty unless it was named explicitly; an unknown key is an error.
func LoadFile(path string, explicit bool) (File, error) {
	var fc File
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return fc, nil
	}
	if err != nil {
		return fc, &FileError{Err: fmt.Errorf("config file: %w", err), Hint: "check the --config path"}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fc, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil {
		return fc, &FileError{Err: fmt.Errorf("config file %s: %v", path, err),
			Hint: "keys: endpoint, client_id, client_secret, token, timeout, rate, smtp_url, smtp_from, retention"}
	}
	return fc, nil
}

// MergeFile fills the settings c does not set from the config file fc read
// from path. warn is told (without the secret) when the file holds
// credentials that others may read.
func (c *Config) MergeFile(path string, fc File, warn func(string)) error {
	if fc.ClientSecret != "" || fc.Token != "" {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			warn(fmt.Sprintf("the config file holds Equinix credentials and others may read it: chmod 600 %s", path))
		}
	}
	c.Endpoint = cmp.Or(c.Endpoint, strings.TrimSpace(fc.Endpoint))
	c.ClientID = cmp.Or(c.ClientID, strings.TrimSpace(fc.ClientID))
	c.ClientSecret = cmp.Or(c.ClientSecret, strings.TrimSpace(fc.ClientSecret))
	c.Token = cmp.Or(c.Token, strings.TrimSpace(fc.Token))
	if c.RateLimit == 0 && fc.Rate != 0 {
		c.RateLimit = fc.Rate
	}
	if fc.Timeout != "" && c.Timeout == 0 {
		d, err := ParseTimeout(fc.Timeout)
		if err != nil {
			return &FileError{Err: fmt.Errorf("config file %s: timeout %q: %v", path, fc.Timeout, err), Hint: "write it like 30 or 30s"}
		}
		c.Timeout = d
	}
	return nil
}
