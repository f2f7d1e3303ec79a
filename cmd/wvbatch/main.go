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

// memoryLimitFloor is the heap size past which the garbage collector works
// harder, unless GOMEMLIMIT says otherwise: validating and reporting on a
// roster of a million rows then stays under 150 MB instead of growing to
// twice what it holds. The limit follows the live heap when that grows
// (see memoryLimitFor), so that a run holding more (a million orders) is
// not collected over and over against a limit it cannot meet.
const memoryLimitFloor = 128 << 20

// memoryLimitFor is the soft memory limit for a live heap of live bytes:
// the floor, or half as much again as is live.
func memoryLimitFor(live uint64) int64 {
	return max(memoryLimitFloor, int64(live+live/2))
}

// followLiveHeap keeps the soft memory limit at memoryLimitFor the live
// heap, checking it every tenth of a second.
func followLiveHeap() {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for range time.Tick(100 * time.Millisecond) {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(memoryLimitFor(sample[0].Value.Uint64()))
		}
	}
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimitFloor)
		go followLiveHeap()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
