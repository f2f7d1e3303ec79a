package equinix

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Location is an IBX where these credentials may order work visits, with
// the accounts and cages they may order for.
type Location struct {
	IBX              string            `json:"ibx"`
	AccessRestricted bool              `json:"accessRestricted"`
	Accounts         []LocationAccount `json:"accounts"`
	Cages            []LocationCage    `json:"cages"`
	// AnyPlace is set only by wvbatch's permissive sandbox (its
	// sandboxPermissive mark; Equinix never sends it): it accepts any
	// well-formed cage, cabinet and account at this IBX besides those
	// listed, which keep their rules.
	AnyPlace bool `json:"sandboxPermissive"`
}

// LocationAccount is an account at an IBX.
type LocationAccount struct {
	AccountNumber string `json:"accountNumber"`
	AccountName   string `json:"accountName"`
	AllowOrder    bool   `json:"allowOrder"`
}

// LocationCage is a cage, or one cabinet of a cage, at an IBX.
type LocationCage struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	AccountNumber string `json:"accountNumber"`
	CabinetID     string `json:"cabinetId"`
	CabinetType   string `json:"cabinetType"`
}

// Locations lists the IBXs, accounts, cages and cabinets these credentials
// may order work visits for, at the given IBXs or everywhere. A cage or
// cabinet missing here fails an order with EQ-2016006.
func (c *Client) Locations(ctx context.Context, ibxs ...string) ([]Location, error) {
	q := url.Values{"permissionCode": {"WORK_VISIT"}, "details": {"true"}}
	var clean []string
	for _, ibx := range ibxs {
		if ibx = strings.ToUpper(strings.TrimSpace(ibx)); ibx != "" && !containsString(clean, ibx) {
			clean = append(clean, ibx)
		}
	}
	if len(clean) > 0 {
		q.Set("ibxs", strings.Join(clean, ","))
	}
	op := "list work visit locations"
	resp, err := c.do(ctx, &request{
		op:     op,
		method: http.MethodGet,
		path:   "/colocations/v2/locations",
		query:  q,
		auth:   true,
		replay: replaySafe,
	})
	if err != nil {
		return nil, err
	}
	var a struct {
		WorkVisits []Location `json:"workVisits"`
	}
	if err := decodeJSON(op, resp, &a); err != nil {
		return nil, err
	}
	return a.WorkVisits, nil
}

// UserStatus is an Equinix portal user's state.
type UserStatus string

// User states. Ordering contacts must be ACTIVE; technical and notification
// contacts ACTIVE or LOCKED (catalogue entry EQX-121-403).
const (
	UserActive     UserStatus = "ACTIVE"
	UserApproved   UserStatus = "APPROVED"
	UserLocked     UserStatus = "LOCKED"
	UserTerminated UserStatus = "TERMINATED"
)

// User is an Equinix portal user.
type User struct {
	Username  string     `json:"username"`
	FirstName string     `json:"firstName"`
	LastName  string     `json:"lastName"`
	Email     string     `json:"email"`
	Status    UserStatus `json:"status"`
}

// UnmarshalJSON reads a user, accepting "userName" for "username".
func (u *User) UnmarshalJSON(b []byte) error {
	type plain User
	var w struct {
		plain
		UserName string `json:"userName"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = User(w.plain)
	u.Username = cmp.Or(u.Username, w.UserName)
	u.Status = UserStatus(strings.ToUpper(string(u.Status)))
	return nil
}

// usersPageSize is how many users one request asks for.
const usersPageSize = 100

// usersMaxPages stops a server that never says it is done.
const usersMaxPages = 200

type usersAnswer struct {
	Pagination struct {
		Total flexInt `json:"total"`
	} `json:"pagination"`
	Data    []User `json:"data"`
	Content []User `json:"content"`
}

// Users returns the users whose name or username matches keyword, whatever
// their status, reading every page (GET /access/v2/users?keyword=…, offset
// and limit paging). The answer's shape is not published; this reads
// {"pagination":{"offset","limit","total"},"data":[users]} (or "content").
func (c *Client) Users(ctx context.Context, keyword string) ([]User, error) {
	keyword = strings.TrimSpace(keyword)
	op := "search users " + strconv.Quote(keyword)
	if keyword == "" {
		return nil, fmt.Errorf("%s: empty keyword", op)
	}
	var all []User
	for page, offset := 0, 0; page < usersMaxPages; page++ {
		resp, err := c.do(ctx, &request{
			op:     op,
			method: http.MethodGet,
			path:   "/access/v2/users",
			query: url.Values{
				"keyword": {keyword},
				"offset":  {strconv.Itoa(offset)},
				"limit":   {strconv.Itoa(usersPageSize)},
			},
			auth:   true,
			replay: replaySafe,
		})
		if err != nil {
			return nil, err
		}
		var a usersAnswer
		if err := decodeJSON(op, resp, &a); err != nil {
			return nil, err
		}
		got := append(a.Data, a.Content...)
		all = append(all, got...)
		offset += len(got)
		if len(got) == 0 || a.Pagination.Total > 0 && offset >= int(a.Pagination.Total) ||
			a.Pagination.Total == 0 && len(got) < usersPageSize {
			return all, nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages of users", op, usersMaxPages)
}

// LookupUser returns the user whose username is username (compared without
// regard to case). An unknown username gives an error matching ErrNotFound.
func (c *Client) LookupUser(ctx context.Context, username string) (*User, error) {
	users, err := c.Users(ctx, username)
	if err != nil {
		return nil, err
	}
	for i := range users {
		if strings.EqualFold(users[i].Username, strings.TrimSpace(username)) {
			return &users[i], nil
		}
	}
	return nil, fmt.Errorf("equinix user %q: %w", username, ErrNotFound)
}
