package equinix

import (
	"slices"
	"strings"
)

// Entry explains one Equinix error code in words a facilities coordinator
// can act on.
type Entry struct {
	Code    string // "EQ-2016006", "EQX-161-403", or an HTTP status such as "429"
	Meaning string // what Equinix is saying
	Cause   string // why it usually happens
	Fix     string // what to do
}

// Lookup returns the catalogue entry for code (an Equinix error code or an
// HTTP status written as digits).
func Lookup(code string) (Entry, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return Entry{}, false
	}
	i, ok := slices.BinarySearchFunc(catalogue, code, func(e Entry, c string) int { return strings.Compare(e.Code, c) })
	if !ok {
		return Entry{}, false
	}
	return catalogue[i], true
}

// Catalogue returns every entry, sorted by code.
func Catalogue() []Entry { return slices.Clone(catalogue) }

// catalogue is sorted by Code (a test checks it).
var catalogue = []Entry{
	{
		Code:    "400",
		Meaning: "Equinix could not accept the request as sent.",
		Cause:   "A required field is missing or a value has the wrong form.",
		Fix:     "Read the listed fields, correct those roster cells and submit again.",
	},
	{
		Code:    "401",
		Meaning: "Equinix did not accept wvbatch's login.",
		Cause:   "The API client id/secret is wrong, or the access token expired or was revoked.",
		Fix:     "Check EQUINIX_API_CLIENTID and EQUINIX_API_CLIENTSECRET; do not retry blindly, the account locks after 5 failed attempts.",
	},
	{
		Code:    "403",
		Meaning: "Equinix refused the request: this login may not do this.",
		Cause:   "The API user lacks the permission for this action, IBX, account or order.",
		Fix:     "Check the IBX, cage, account and order id; if they are right, ask your Equinix Master Administrator for the permission.",
	},
	{
		Code:    "404",
		Meaning: "Equinix has no such thing.",
		Cause:   "The order id, user or address does not exist, or is not visible to this login.",
		Fix:     "Check the order id or username; check EQUINIX_API_ENDPOINT points at Equinix's API.",
	},
	{
		Code:    "405",
		Meaning: "Equinix does not allow this action here.",
		Cause:   "The request used an action (method) this address does not support; usually a wrong endpoint.",
		Fix:     "Check EQUINIX_API_ENDPOINT; if it is right, report this to the wvbatch maintainers.",
	},
	{
		Code:    "409",
		Meaning: "The request clashes with the order's current state.",
		Cause:   "The order changed meanwhile (for example it was closed, cancelled or updated by someone else).",
		Fix:     "Look at the order in the Equinix Customer Portal, then decide whether to submit the change again.",
	},
	{
		Code:    "429",
		Meaning: "Too many requests: Equinix asks wvbatch to slow down.",
		Cause:   "The API rate limit of your contract was reached.",
		Fix:     "Nothing to correct; wvbatch waits and tries again. Lower the rate limit if it keeps happening.",
	},
	{
		Code:    "500",
		Meaning: "Equinix had an internal problem.",
		Cause:   "A fault on Equinix's side, not in the roster.",
		Fix:     "Try again later; if it persists, give Equinix support the correlation id.",
	},
	{
		Code:    "502",
		Meaning: "Equinix's gateway got no good answer from the service behind it.",
		Cause:   "A temporary fault on Equinix's side.",
		Fix:     "Try again later; for a new work visit, first check whether the order was made (wvbatch searches by reference).",
	},
	{
		Code:    "503",
		Meaning: "The Equinix service is unavailable for now.",
		Cause:   "Maintenance or overload on Equinix's side.",
		Fix:     "Try again later.",
	},
	{
		Code:    "504",
		Meaning: "Equinix's gateway timed out waiting for the service.",
		Cause:   "A slow or stuck service on Equinix's side; the request may still have been carried out.",
		Fix:     "Try again later; for a new work visit, first check whether the order was made (wvbatch searches by reference).",
	},
	{
		Code:    "EQ-2010005",
		Meaning: "The quote was not found for this account.",
		Cause:   "The quote id is wrong, or this login may not see that quote.",
		Fix:     "Check the quote id; if it is right, ask your Master Administrator for permission to view it.",
	},
	{
		Code:    "EQ-2012006",
		Meaning: "This login may not place this order.",
		Cause:   "The API user lacks the ordering permission for it.",
		Fix:     "Ask your Equinix Master Administrator to grant the ordering permission, or use a login that has it.",
	},
	{
		Code:    "EQ-2012007",
		Meaning: "This login may not change or cancel that order.",
		Cause:   "The order id is wrong, or the API user lacks permission for that order.",
		Fix:     "Check the order id; if it is right, ask your Master Administrator for the permission.",
	},
	{
		Code:    "EQ-2014005",
		Meaning: "Equinix cannot find that order, or this login may not see it.",
		Cause:   "The order id is wrong, or belongs to an account this login has no access to.",
		Fix:     "Check the order id; if it is right, ask your Master Administrator for access to that account's orders.",
	},
	{
		Code:    "EQ-2014007",
		Meaning: "That order cannot be changed or cancelled, or this login may not.",
		Cause:   "The order is already cancelled or closed, or the API user lacks permission to change or cancel it.",
		Fix: "Check the order in the Equinix Customer Portal: a cancelled or closed order cannot be cancelled again; " +
			"otherwise use a login with ordering permission for that account, or ask your Master Administrator for it.",
	},
	{
		Code:    "EQ-2016005",
		Meaning: "Equinix cannot find that shipment, or this login may not see it.",
		Cause:   "The order id is wrong, or the API user lacks permission for it.",
		Fix:     "Check the order id; if it is right, ask your Master Administrator for the permission.",
	},
	{
		Code:    "EQ-2016006",
		Meaning: "The cage, cabinet or account is not one this login may order a work visit for.",
		Cause:   "A cage or cabinet id is mistyped, belongs to another account or IBX, or the account is not allowed to order there.",
		Fix:     "Check the Cage, Cabinet and Account Number cells against the Equinix Customer Portal; the locations Equinix lists for your login are the ones you may order for.",
	},
	{
		Code:    "EQ-2016007",
		Meaning: "This work visit can no longer be changed or cancelled, or this login may not.",
		Cause:   "The order is already cancelled or closed, the order id is wrong, or the API user lacks permission.",
		Fix:     "Check the order in the Equinix Customer Portal; a closed or cancelled visit cannot be changed, order a new one instead.",
	},
	{
		Code:    "EQ-2016011",
		Meaning: "Something the work visit needs is missing.",
		Cause:   "A required field (cage, visit start or end, a visitor's name, a contact's type…) was left empty.",
		Fix:     "Fill in the roster cells the error lists and submit again.",
	},
	{
		Code:    "EQ-2021005",
		Meaning: "That username was not found for this account.",
		Cause:   "The username is misspelled, or this login may not see that user.",
		Fix:     "Copy the username exactly as the Equinix Customer Portal shows it; ask your Master Administrator if unsure.",
	},
	{
		Code:    "EQ-2021006",
		Meaning: "This login may not create users.",
		Cause:   "The API user lacks user-administration permission.",
		Fix:     "Ask your Equinix Master Administrator to create the user or to grant the permission.",
	},
	{
		Code:    "EQ-2021007",
		Meaning: "That username was not found, or this login may not change it.",
		Cause:   "The username is misspelled, or the API user lacks permission to update users.",
		Fix:     "Check the username; if it is right, ask your Master Administrator.",
	},
	{
		Code:    "EQ-2061005",
		Meaning: "This login may not look up that IBX or parameter.",
		Cause:   "An IBX code, account or other lookup value is wrong, or not permitted for this login.",
		Fix:     "Check the IBX code (like AM1, DC2) and account; ask your Master Administrator if they are right.",
	},
	{
		Code:    "EQ-2061011",
		Meaning: "A lookup was missing something it needs.",
		Cause:   "A required lookup parameter was not sent.",
		Fix:     "Report this to the wvbatch maintainers with the correlation id.",
	},
	{
		Code:    "EQ-2061101",
		Meaning: "Equinix's lookup service had an internal problem.",
		Cause:   "A fault on Equinix's side.",
		Fix:     "Try again later; if it persists, give Equinix support the correlation id.",
	},
	{
		Code:    "EQ-2086005",
		Meaning: "No invoice was found, or this login may not see billing.",
		Cause:   "The account number is wrong, or the API user lacks billing permission.",
		Fix:     "Check the account number; ask your Master Administrator for billing access.",
	},
	{
		Code:    "EQ-2095005",
		Meaning: "The purchase orders could not be found, or this login may not see them.",
		Cause:   "The account number is wrong, or the API user lacks permission for its purchase orders.",
		Fix:     "Check the account number and purchase order; ask your Master Administrator if they are right.",
	},
	{
		Code:    "EQX-121-403",
		Meaning: "Equinix refused a contact or the account: a username is not an active, approved user, or this login may not use the account or resource.",
		Cause: "A contact's or visitor's username is misspelled or not active (ordering contacts must be ACTIVE; technical and " +
			"notification contacts ACTIVE or LOCKED), or the account number or IBX is wrong or not permitted.",
		Fix: "Copy usernames exactly as the Equinix Customer Portal shows them and check they are active; check the account " +
			"number and IBX code; ask your Master Administrator about permissions.",
	},
	{
		Code:    "EQX-121-5539",
		Meaning: "This login may not use that account, or that IBX, cage and account together.",
		Cause:   "The IBX code, cage or account number is wrong (for example AM instead of AM1), or not permitted for this login.",
		Fix:     "Check the IBX, Cage and Account Number cells; ask your Master Administrator if they are right.",
	},
	{
		Code:    "EQX-161-403",
		Meaning: "A contact's username is not an active, approved Equinix user.",
		Cause:   "A username for a contact or visitor is misspelled, belongs to someone who left, or is not yet approved.",
		Fix: "Copy the username exactly as the Equinix Customer Portal shows it (ask your Master Administrator or account " +
			"manager if unsure) and make sure the user is active.",
	},
	{
		Code:    "EQX-816-403",
		Meaning: "This login may not see or run that report.",
		Cause:   "The report belongs to another user, or the API user lacks permission for that kind of report.",
		Fix:     "Use the login that owns the report, or ask your Master Administrator for the permission.",
	},
	{
		Code:    "EQX-826-403",
		Meaning: "This login may not access that account.",
		Cause:   "The account number is wrong or belongs to an account this user has no access to.",
		Fix:     "Check the account number; ask your Master Administrator for access if it is right.",
	},
}
