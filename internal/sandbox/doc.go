// Package sandbox is an in-process stand-in for Equinix's Work Visit API, with a seeded account, faults and a clock.
//
// A Server answers the token, work visit (create, update, cancel, get),
// order search, location lookup and user lookup endpoints in the shapes
// Equinix documents, refuses what Equinix refuses with the same error codes,
// and can inject faults (429, 5xx, slow answers, reset connections, orders
// created whose answer is lost) from a seeded random source. GET
// /sandbox/orders (not an Equinix path) shows every order it holds.
package sandbox
