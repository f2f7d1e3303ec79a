package spectest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// EnvDir names the environment variable that points to the reference folder
// (the one holding openapi/ and seeds/) when it is not shared/reference
// beside the project.
const EnvDir = "WVBATCH_REFERENCE_DIR"

// DefaultDir is shared/reference beside the module's root folder, the
// nearest folder above the working directory (a test's package folder) that
// holds go.mod.
func DefaultDir() string {
	root, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "reference")
	}
	for dir := root; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			root = dir
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		dir = up
	}
	return filepath.Join(filepath.Dir(root), "shared", "reference")
}

// Find returns the reference folder and whether it exists.
func Find() (string, bool) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = DefaultDir()
	}
	fi, err := os.Stat(filepath.Join(dir, "openapi"))
	return dir, err == nil && fi.IsDir()
}

// Dir returns the reference folder. When it is absent it skips tb, or fails
// it when CI is set. Call it from the test's own goroutine.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, ok := Find()
	if !ok {
		msg := "Equinix API descriptions not found in " + dir + ": put shared/reference beside the project or set " + EnvDir
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return dir
}

// Load loads an OpenAPI 3 file, or a Swagger 2 file converted to OpenAPI 3.
func Load(path string) (*openapi3.T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b[:min(len(b), 200)], []byte(`"swagger"`)) {
		var d2 openapi2.T
		if err := json.Unmarshal(b, &d2); err != nil {
			return nil, err
		}
		return openapi2conv.ToV3(&d2)
	}
	return openapi3.NewLoader().LoadFromData(b)
}
