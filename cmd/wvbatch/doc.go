// Command wvbatch orders Equinix work visits in bulk from the visitor rosters
// people already keep in Excel or CSV.
package main
