package secret

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxSize is the largest secret file read; a larger one is refused (it is
// not a secret but a mistake, such as a path to the wrong file).
const MaxSize = 64 << 10

// CredentialsDirEnv is the variable systemd sets for a service with
// LoadCredential= or SetCredential=.
const CredentialsDirEnv = "CREDENTIALS_DIRECTORY"

// Value is a secret and where it came from. Its String is REDACTED.
type Value struct {
	value string
	// From says where the value was found, without the value: "$NAME",
	// "NAME_FILE (PATH)" or "credential PATH"; empty when it is not set.
	From string
	// Warning, when not empty, says that the file holding the value may be
	// read by others, and how to fix it.
	Warning string
}

// Reveal returns the secret itself.
func (v Value) Reveal() string { return v.value }

// Set reports whether the secret was found anywhere.
func (v Value) Set() bool { return v.From != "" }

// String keeps the secret out of logs and messages.
func (v Value) String() string {
	if v.value == "" {
		return `""`
	}
	return "REDACTED"
}

// GoString is String, so that %#v does not print the secret either.
func (v Value) GoString() string { return v.String() }

// Lookup finds the secret called name: the variable name, else the file
// named by name_FILE, else the file name in $CREDENTIALS_DIRECTORY. Setting
// both name and name_FILE is an error, as it is ambiguous. A secret found
// nowhere is the zero Value and no error.
func Lookup(getenv func(string) string, name string) (Value, error) {
	direct, file := getenv(name), getenv(name+"_FILE")
	switch {
	case direct != "" && file != "":
		return Value{}, fmt.Errorf("both %s and %s_FILE are set: keep one", name, name)
	case direct != "":
		return Value{value: direct, From: "$" + name}, nil
	case file != "":
		return readFile(file, name+"_FILE ("+file+")", name+"_FILE")
	}
	if dir := getenv(CredentialsDirEnv); dir != "" {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return readFile(path, "credential "+path, "credential "+name)
		}
	}
	return Value{}, nil
}

// readFile reads a secret file. what names the setting in errors.
func readFile(path, from, what string) (Value, error) {
	f, err := os.Open(path)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", what, pathErr(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", what, pathErr(err))
	}
	if st.IsDir() {
		return Value{}, fmt.Errorf("%s: %s is a folder, not a file", what, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return Value{}, fmt.Errorf("%s: read %s: %w", what, path, pathErr(err))
	}
	if len(b) > MaxSize {
		return Value{}, fmt.Errorf("%s: %s is larger than %d KiB: not a secret file", what, path, MaxSize>>10)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(s) == "" {
		return Value{}, fmt.Errorf("%s: %s is empty", what, path)
	}
	if strings.ContainsAny(s, "\r\n") {
		return Value{}, fmt.Errorf("%s: %s holds more than one line: put only the secret in it", what, path)
	}
	v := Value{value: s, From: from}
	if st.Mode().Perm()&0o077 != 0 {
		v.Warning = fmt.Sprintf("the secret file %s may be read by others (mode %04o): chmod 600 %s (for a Kubernetes Secret, defaultMode: 0400)",
			path, st.Mode().Perm(), path)
	}
	return v, nil
}

// pathErr keeps an *os.PathError's operation and path and drops nothing
// secret (it never holds file contents), but says plainly what is missing.
func pathErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("no file %s", pe.Path)
		}
	}
	return err
}

// Getenv returns a getenv that answers each of names with its secret as
// Lookup finds it, and every other name as getenv does. warn receives the
// warnings of files others may read.
func Getenv(getenv func(string) string, warn func(string), names ...string) (func(string) string, error) {
	found := make(map[string]string, len(names))
	for _, n := range names {
		v, err := Lookup(getenv, n)
		if err != nil {
			return nil, err
		}
		if v.Warning != "" && warn != nil {
			warn(v.Warning)
		}
		found[n] = v.value
	}
	return func(k string) string {
		if v, ok := found[k]; ok {
			return v
		}
		return getenv(k)
	}, nil
}
