package queue

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/rs/zerolog"
)

// engine hands the orders of one call (Submit, Cancel, Amend) to workers,
// one step of one order at a time: at most RunConfig.Concurrency requests
// in flight, a step that must wait (a backoff, a settle delay) handed out
// again when its time comes, and nothing more handed out once a step
// returns a stop error (a fatal answer, a store failure, a panic) or the
// caller's context ends. Requests in flight then finish under a context
// that outlives the caller's by RunConfig.DrainTimeout, so that their
// answers are recorded.
//
// A worker records its order's intent before it asks for one of the
// Concurrency slots, so that the next orders' intents are durable while
// the requests before them are in flight: a request goes out the moment a
// slot is free, not one commit later. It gives its slot back as soon as
// its request is answered, and records the answer while the next request
// goes out, so that one commit carries the outcome of one order and the
// intent of another. At most Concurrency workers wait for a slot; workers
// still recording are bounded too.
type engine struct {
	cfg RunConfig
	log zerolog.Logger

	ctx    context.Context // the caller's
	reqCtx context.Context // the requests': it outlives ctx by the drain timeout

	ready   jobHeap // due: first ones first, then plan order
	delayed jobHeap // not yet due: by due time
}

// job is one order's work in a call. Each time it is due, do runs one step
// of it in a worker of its own.
type job struct {
	key   string
	seq   int       // the order's place in the plan
	first bool      // due jobs that are first go before the others
	due   time.Time // the job is not handed out before
	// local jobs only change the store: they never ask for a slot, and up
	// to localLimit run at once.
	local bool
	do    func(sl *slot) step
	// left, if set, records what must be recorded of a job that was due
	// again when the call stopped.
	left func() error
}

// step is the outcome of one step of a job.
type step struct {
	again bool  // hand the job out again at its due time
	stop  error // stop the call: nothing more is handed out
	// done, if set, runs in the engine's goroutine once the step is over,
	// one step at a time: where a call counts what its steps did.
	done func()
}

// localLimit bounds the store-only steps run at once; they are
// group-committed, so many at once cost few fsyncs.
const localLimit = 256

func newEngine(ctx context.Context, cfg RunConfig, log zerolog.Logger) *engine {
	e := &engine{cfg: cfg, log: log, ctx: ctx}
	e.ready.less = func(a, b *job) bool {
		if a.first != b.first {
			return a.first
		}
		return a.seq < b.seq
	}
	e.delayed.less = func(a, b *job) bool {
		if c := a.due.Compare(b.due); c != 0 {
			return c < 0
		}
		return a.seq < b.seq
	}
	return e
}

// add queues a job.
func (e *engine) add(j *job) {
	if !j.due.IsZero() && j.due.After(e.cfg.Now()) {
		heap.Push(&e.delayed, j)
		return
	}
	heap.Push(&e.ready, j)
}

// slot is a worker's claim on one of the Concurrency request slots.
type slot struct {
	events             chan<- event
	seq                int
	asked              bool
	granted, givenBack bool
}

// take waits for a slot, after the step has recorded its intent: false when
// the call stops first (the request must not be sent).
func (s *slot) take() bool {
	s.asked = true
	ch := make(chan bool, 1)
	s.events <- event{ready: ready{ch: ch, seq: s.seq}}
	s.granted = <-ch
	return s.granted
}

// give gives the slot back before the step is over: its request has been
// answered well, and what is left is recording it. A slot not given back
// is given back with the step's outcome, so that nothing starts before a
// failure is known.
func (s *slot) give() {
	if s.granted && !s.givenBack {
		s.givenBack = true
		s.events <- event{release: true}
	}
}

// ready is a worker ready for a slot, waiting on ch for the answer: true to
// go on, false when the call stops first. seq is its order's place in the
// plan.
type ready struct {
	ch  chan bool
	seq int
}

// event is a worker ready for a slot, giving back its slot, or the outcome
// of its step.
type event struct {
	ready   ready
	release bool
	done    bool
	j       *job
	res     step
	holds   bool // the worker still holds a slot
	asked   bool // the worker asked for a slot
}

// run hands out the jobs until none is left or the call must stop, and
// returns what stopped it. While cfg.Outage says the API is down, a
// warning is logged every WarnEvery with waiting()'s number of orders.
func (e *engine) run(waiting func() int) error {
	stopWatch := WatchOutage(e.cfg, e.log, waiting)
	defer stopWatch()
	ctx := e.ctx
	var stopDrain func()
	e.reqCtx, stopDrain = drainContext(ctx, e.cfg.DrainTimeout)
	defer stopDrain()

	conc := e.cfg.Concurrency
	events := make(chan event, 2*conc)
	var (
		inflight  int     // requests holding a slot
		preparing int     // workers not yet granted a slot (or refused one)
		waitingW  []ready // workers ready for a slot, in plan order
		alive     int     // workers not yet done
		locals    int     // local workers not yet done
		stopErr   error
		stopping  bool
		ctxDone   = ctx.Done()
	)
	canStart := func() bool {
		return !stopping && preparing < conc && alive < 3*conc
	}
	grant := func() {
		for len(waitingW) > 0 && (stopping || inflight < conc) {
			w := waitingW[0]
			waitingW = waitingW[1:]
			preparing--
			if !stopping {
				inflight++
			}
			w.ch <- !stopping
		}
	}
	start := func(j *job) {
		if j.local {
			locals++
		} else {
			preparing++
			alive++
		}
		go e.work(j, events)
	}
	for {
		if ctxDone != nil && ctx.Err() != nil {
			ctxDone, stopping = nil, true
		}
		now := e.cfg.Now()
		for len(e.delayed.jobs) > 0 && !e.delayed.jobs[0].due.After(now) {
			heap.Push(&e.ready, heap.Pop(&e.delayed))
		}
		grant()
		for !stopping && len(e.ready.jobs) > 0 {
			next := e.ready.jobs[0]
			if next.local && locals >= localLimit || !next.local && !canStart() {
				break
			}
			start(heap.Pop(&e.ready).(*job))
		}
		if alive == 0 && locals == 0 && (stopping || len(e.ready.jobs) == 0 && len(e.delayed.jobs) == 0) {
			return errors.Join(stopErr, e.leave())
		}

		var wake chan struct{}
		cancelWake := func() {}
		if canStart() && len(e.ready.jobs) == 0 && len(e.delayed.jobs) > 0 {
			var wctx context.Context
			wctx, cancelWake = context.WithCancel(ctx)
			wake = make(chan struct{})
			d := e.delayed.jobs[0].due.Sub(now)
			go func() {
				_ = e.cfg.Sleep(wctx, d)
				close(wake)
			}()
		}
		select {
		case ev := <-events:
			switch {
			case ev.ready.ch != nil:
				i, _ := slices.BinarySearchFunc(waitingW, ev.ready, func(a, b ready) int { return cmp.Compare(a.seq, b.seq) })
				waitingW = slices.Insert(waitingW, i, ev.ready)
			case ev.release:
				inflight--
			case ev.j.local:
				locals--
			default:
				alive--
				if ev.holds {
					inflight--
				}
				if !ev.asked {
					preparing--
				}
			}
			if !ev.done {
				break
			}
			if ev.res.done != nil {
				ev.res.done()
			}
			if ev.res.stop != nil && stopErr == nil {
				stopErr, stopping = ev.res.stop, true
			}
			if ev.res.again {
				e.add(ev.j)
			}
		case <-wake:
		case <-ctxDone:
			ctxDone, stopping = nil, true
		}
		cancelWake()
	}
}

// work runs one step of j and reports its outcome. A panic (a bug in the
// API side, say) stops the call like a fatal answer instead of taking the
// process down: the order stays as the store last recorded it, and the
// next call settles it.
func (e *engine) work(j *job, events chan<- event) {
	sl := &slot{events: events, seq: j.seq}
	var res step
	defer func() {
		if p := recover(); p != nil {
			res = step{stop: fmt.Errorf("order %s: panic: %v\n%s", j.key, p, debug.Stack())}
		}
		events <- event{done: true, j: j, res: res, holds: sl.granted && !sl.givenBack, asked: sl.asked}
	}()
	res = j.do(sl)
}

// leave records what must be recorded of the jobs that were due again
// when the call stopped.
func (e *engine) leave() error {
	var errs []error
	for _, h := range []*jobHeap{&e.ready, &e.delayed} {
		for _, j := range h.jobs {
			if j.left != nil {
				errs = append(errs, j.left())
			}
		}
	}
	return errors.Join(errs...)
}

// drainContext returns the context of requests made under ctx: it outlives
// ctx by up to d, so that the answers of requests in flight when ctx ends
// are recorded. stop releases it.
func drainContext(ctx context.Context, d time.Duration) (reqCtx context.Context, stop func()) {
	reqCtx, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	stopDrain := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d, cancelReq)
		context.AfterFunc(reqCtx, func() { t.Stop() })
	})
	return reqCtx, func() {
		stopDrain()
		cancelReq()
	}
}

// jobHeap is a heap of jobs ordered by less.
type jobHeap struct {
	jobs []*job
	less func(a, b *job) bool
}

func (h *jobHeap) Len() int           { return len(h.jobs) }
func (h *jobHeap) Less(i, j int) bool { return h.less(h.jobs[i], h.jobs[j]) }
func (h *jobHeap) Swap(i, j int)      { h.jobs[i], h.jobs[j] = h.jobs[j], h.jobs[i] }
func (h *jobHeap) Push(x any)         { h.jobs = append(h.jobs, x.(*job)) }
func (h *jobHeap) Pop() any {
	n := len(h.jobs) - 1
	j := h.jobs[n]
	h.jobs[n] = nil
	h.jobs = h.jobs[:n]
	return j
}
