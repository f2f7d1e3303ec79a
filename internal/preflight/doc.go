// Package preflight checks roster rows against the Equinix account before
// anything is ordered: cages, cabinets and accounts the credentials may order
// for, and users that exist and are active.
package preflight
