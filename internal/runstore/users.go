package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The web front door's accounts and sessions. Both buckets are created by
// their first write, so stores from before them need no upgrade and older
// wvbatch versions ignore them.
//
//	users      user name → User
//	sessions   session id hash → Session
var (
	bucketUsers    = []byte("users")
	bucketSessions = []byte("sessions")
)

// User is a person who may sign in to the web front door. Hash is a
// password hash (never the password); it is empty for a user who signs in
// only through a trusted proxy's header.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Hash string `json:"hash,omitempty"`
	// Gen changes with every password or role change: sessions made before
	// it no longer count.
	Gen       int       `json:"gen"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Session is one signed-in browser. ID is a hash of the cookie's value, so
// the store never holds what a cookie carries.
type Session struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Gen     int       `json:"gen"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

// ErrUserExists is matched by the error AddUser returns for a name taken.
var ErrUserExists = errors.New("user exists")

// AddUser records a new user; it matches ErrUserExists when the name is taken.
func (s *Store) AddUser(u User) error {
	if u.Name == "" {
		return errors.New("add user: empty name")
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketUsers)
		if err != nil {
			return err
		}
		if b.Get([]byte(u.Name)) != nil {
			return refuse(fmt.Errorf("user %s: %w", u.Name, ErrUserExists))
		}
		now := s.opt.Now().UTC()
		u.CreatedAt, u.UpdatedAt, u.Gen = now, now, 1
		return putJSON(b, u.Name, u)
	})
}

// UpdateUser changes a user in one durable transaction; fn's error changes
// nothing. The user's Gen moves on, ending the sessions made before.
func (s *Store) UpdateUser(name string, fn func(u *User) error) (User, error) {
	var out User
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		var u User
		if b == nil || b.Get([]byte(name)) == nil {
			return refuse(fmt.Errorf("user %s: %w", name, ErrNotFound))
		}
		if err := json.Unmarshal(b.Get([]byte(name)), &u); err != nil {
			return fmt.Errorf("user %s: %w", name, err)
		}
		if err := fn(&u); err != nil {
			return refuse(err)
		}
		u.Name, u.Gen, u.UpdatedAt = name, u.Gen+1, s.opt.Now().UTC()
		out = u
		return putJSON(b, name, u)
	})
	return out, err
}

// RemoveUser deletes a user and its sessions; it matches ErrNotFound when
// there is no such user.
func (s *Store) RemoveUser(name string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b == nil || b.Get([]byte(name)) == nil {
			return refuse(fmt.Errorf("user %s: %w", name, ErrNotFound))
		}
		if err := b.Delete([]byte(name)); err != nil {
			return err
		}
		sb := tx.Bucket(bucketSessions)
		if sb == nil {
			return nil
		}
		var drop [][]byte
		err := sb.ForEach(func(k, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) != nil || ss.User == name {
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := sb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Users returns every user, by name.
func (s *Store) Users() ([]User, error) {
	var out []User
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("user %s: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// PutSession records a session.
func (s *Store) PutSession(ss Session) error {
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSessions)
		if err != nil {
			return err
		}
		return putJSON(b, ss.ID, ss)
	})
}

// DeleteSessions removes the sessions with these ids, and every session
// that expired before now.
func (s *Store) DeleteSessions(now time.Time, ids ...string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		var drop [][]byte
		for _, id := range ids {
			drop = append(drop, []byte(id))
		}
		err := b.ForEach(func(k, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) != nil || ss.Expires.Before(now) {
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Sessions returns every recorded session.
func (s *Store) Sessions() ([]Session, error) {
	var out []Session
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) == nil {
				out = append(out, ss)
			}
			return nil
		})
	})
	return out, err
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}
