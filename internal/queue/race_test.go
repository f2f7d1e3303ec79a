//go:build race

package queue

// raceEnabled: the race detector slows everything down several times, so
// timed tests allow for it.
const raceEnabled = true
