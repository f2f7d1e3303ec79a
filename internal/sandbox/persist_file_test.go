package sandbox

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestStartFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var ce *ConfigError
	if _, _, _, err := StartFile(Config{FaultRate: 2}, "", nil); !errors.As(err, &ce) {
		t.Errorf("a fault rate of 2: %v, want a ConfigError", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var se *StateFileError
	if _, _, _, err := StartFile(Config{}, bad, nil); !errors.As(err, &se) || se.Path != bad {
		t.Errorf("a broken state file: %v, want a StateFileError naming it", err)
	}

	state := filepath.Join(dir, "state", "sandbox.json")
	srv, url, stop, err := StartFile(Config{}, state, func(err error) { t.Errorf("save: %v", err) })
	if err != nil || srv == nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url + "/sandbox/orders")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /sandbox/orders: %s", resp.Status)
	}
	stop()
	if _, err := os.Stat(state); err != nil {
		t.Errorf("stop did not save the state: %v", err)
	}
	if _, err := http.Get(url + "/sandbox/orders"); err == nil {
		t.Error("the sandbox still answers after stop")
	}
	_, _, stop, err = StartFile(Config{}, state, nil)
	if err != nil {
		t.Fatalf("starting from the saved state: %v", err)
	}
	stop()
}
