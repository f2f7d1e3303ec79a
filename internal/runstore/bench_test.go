package runstore

import (
	"fmt"
	"testing"
)

// BenchmarkCreateRun writes a run of 20,000 orders of 50 visitors:
// 1,000,000 rows.
func BenchmarkCreateRun(b *testing.B) {
	s := openStore(b)
	specs := specs(20000, 50)
	i := 0
	for b.Loop() {
		createRun(b, s, fmt.Sprintf("run-%d", i), specs, nil)
		i++
	}
}
