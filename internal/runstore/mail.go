package runstore

import (
	"slices"

	bolt "go.etcd.io/bbolt"
)

// RecordMail records an attempt to email a run's report: rec.At defaults to
// now, and Attempts counts every attempt since the last one that was sent.
func (s *Store) RecordMail(runID string, rec MailRecord) error {
	return s.update(func(tx *bolt.Tx) error {
		run, err := getRun(tx, runID)
		if err != nil {
			return refuse(err)
		}
		now := s.opt.Now().UTC()
		if rec.At.IsZero() {
			rec.At = now
		}
		rec.To = slices.Clone(rec.To)
		rec.Attempts = 1
		if prev := run.Mail; prev != nil && !prev.Sent {
			rec.Attempts = prev.Attempts + 1
		}
		run.Mail, run.UpdatedAt = &rec, now
		return putRun(tx, run)
	})
}
