package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"time"
)

// memoryLimitFloor is the memory past which the garbage collector works
// harder, unless GOMEMLIMIT says otherwise: validating and reporting on a
// roster of a million rows then stays near 130 MB of resident memory
// instead of growing to twice what it holds (at 128 MB the heap's overshoot
// while the import and the report both allocate took it to 144-153 MB; the
// CPU time was the same). The limit follows the live heap when that grows
// (see memoryLimitFor), so that a run holding more (a million orders) is
// not collected over and over against a limit it cannot meet.
const memoryLimitFloor = 112 << 20

// memoryLimitFor is the soft memory limit for a live heap of live bytes:
// the floor, or half as much again as is live.
func memoryLimitFor(live uint64) int64 {
	return max(memoryLimitFloor, int64(live+live/2))
}

// smallHeap is the live heap under which the collector runs a quarter as
// often (GOGC 400 rather than 100), unless GOGC says otherwise: a command
// on a small roster is over in a fraction of a second, and collecting its
// few megabytes again and again took a fifth of its CPU (10,000 rows). The
// memory limit still bounds the heap.
const (
	smallHeap          = 16 << 20
	smallHeapGCPercent = 400
)

// gcPercentFor is the GOGC for a live heap of live bytes.
func gcPercentFor(live uint64) int {
	if live < smallHeap {
		return smallHeapGCPercent
	}
	return 100
}

// followLiveHeap keeps the soft memory limit at memoryLimitFor the live
// heap (with limit) and the GOGC at gcPercentFor it (with gc), checking
// it every tenth of a second.
func followLiveHeap(limit, gc bool) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for range time.Tick(100 * time.Millisecond) {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			continue
		}
		live := sample[0].Value.Uint64()
		if limit {
			debug.SetMemoryLimit(memoryLimitFor(live))
		}
		if gc {
			debug.SetGCPercent(gcPercentFor(live))
		}
	}
}

func main() {
	limit, gc := os.Getenv("GOMEMLIMIT") == "", os.Getenv("GOGC") == ""
	if limit {
		debug.SetMemoryLimit(memoryLimitFloor)
	}
	if gc {
		debug.SetGCPercent(gcPercentFor(0))
	}
	if limit || gc {
		go followLiveHeap(limit, gc)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
