// Package rostergen writes synthetic visitor rosters of any size for demos and benchmarks.
package rostergen
