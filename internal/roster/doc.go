// Package roster reads visitor rosters (.xlsx and .csv) row by row and checks each row
// against the rules of Equinix work visits.
package roster
