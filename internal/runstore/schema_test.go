package runstore

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestBadSchemaVersionIsDamage: a schema version that is not a number (a
// flipped bit) makes the store damaged, not a store that cannot be
// written.
func TestBadSchemaVersionIsDamage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("\xb3")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrDamaged) {
		t.Errorf("Open of a store whose schema version is %q = %v; want ErrDamaged", "\xb3", err)
	}
}
