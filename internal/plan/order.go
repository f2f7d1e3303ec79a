package plan

import (
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// Limits Equinix puts on one work visit order.
const (
	MaxVisitors = 50
	MaxWindow   = 14 * 24 * time.Hour
)

// Order is one work visit order to place.
type Order struct {
	// Key identifies the order within its run; the same roster and settings
	// always give the same keys.
	Key string
	// Reference is the order's customerReferenceId (at most 40 characters).
	Reference string

	IBX         string
	Cage        string
	Cabinet     string // "" when the visit is to the whole cage
	Account     string
	Start, End  time.Time // UTC
	Zone        string    // the IBX's IANA zone, for showing local times
	OpenCabinet bool

	// Count is the number of visitors.
	Count int
	// Visitors are in roster order (nil when the plan was made CountOnly).
	Visitors []roster.Visitor
}
