package runstore

import "errors"

// HintDamaged is the fix for a damaged store file.
const HintDamaged = "restore it from a backup: wvbatch store restore BACKUP (it keeps the damaged file aside; see \"Backups, checks and restore\" in the README); wvbatch itself neither replaces nor repairs it"

// OpenHint says what to do about a store that Open refused with err.
func OpenHint(err error) string {
	switch {
	case errors.Is(err, ErrStoreBusy):
		return "another wvbatch (perhaps the server or the scheduler, in the middle of a run) is using this store: try again when it is done, or use another --store"
	case errors.Is(err, ErrDamaged):
		return HintDamaged
	case errors.Is(err, ErrNewerSchema):
		return "upgrade wvbatch to open this store"
	}
	return "check that the store's folder exists and that you may write there"
}
