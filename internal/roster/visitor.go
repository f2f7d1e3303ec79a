package roster

import "time"

// Visitor is a checked roster row: one visitor at one place for one window.
type Visitor struct {
	Row int // the roster row it came from

	IBX         string // e.g. "AM1"
	Cage        string // e.g. "AM1:01:000111"
	Cabinet     string // e.g. "AM1:01:000111:0101", or ""
	Account     string
	Start, End  time.Time // UTC instants
	Zone        string    // IANA zone the local times were read in
	OpenCabinet bool

	Username          string // a registered user, instead of the name fields
	FirstName         string
	LastName          string
	Company           string
	Email             string
	MobileCountryCode string
	MobilePhone       string

	// CabinetIsNumber and AccountIsNumber tell that the cell was a number,
	// which drops leading zeros (0101 is 101): the pre-flight matches it to
	// the account's cabinet or account with the same number.
	CabinetIsNumber, AccountIsNumber bool
}
