package export

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snapex/snapex/internal/blob"
)

// Small collections (under one block of BSON) are bound by per-object
// latency, not by bandwidth or CPU: each waits for its PUT (and later its
// metadata.json's PUT) far longer than it takes to compress. How many are
// in flight is sized from what is measured, by Little's law: to keep the
// compressor's P workers busy, each unit holding a slot for its compression
// time C plus its store round trip L, P·(C+L)/C units must be in flight.
// C is the compressor's mean busy time per small block, L the store's
// round trip: the shortest single-request write (WriteAll) seen in the
// job. The shortest, not the mean: the mean includes the time requests
// queue in the store, which grows with the number in flight, so sizing
// from it feeds on itself (measured: 256 in flight against versitygw on
// loopback made the mean 240 ms and the export slower); the shortest is
// the latency no concurrency can hide. On loopback (L ≈ 1 ms, C ≈ 0.5 ms)
// that keeps the minimum of 16; at 20 ms it is about 80, at 50 ms about
// 200. Memory does not follow:
// a byte budget bounds the BSON the small units in flight hold, whatever
// their number, and large collections keep their own semaphore
// (Engine.Parallelism) and bounded part buffers.
const (
	// smallInFlightMin is where the limit starts and the least it sizes
	// to: what served loopback stores well before it followed latency.
	smallInFlightMin = 16
	// smallInFlightMax caps the limit: enough for 50 ms stores to reach
	// ~5,000 objects/s, and within the idle connections the blob drivers
	// keep per store (httpx.MaxIdleConnsPerHost), so none is dialed anew.
	smallInFlightMax = 256
	// smallBudgetBytes bounds the memory of small units in flight: their
	// BSON (their blocks and compressed output are of that order) plus
	// smallUnitOverhead each.
	smallBudgetBytes = 48 << 20
	// smallUnitOverhead is what a unit in flight holds whatever its size:
	// the snapshot reader's buffer (64 KiB), the store client's copy
	// buffer and request state.
	smallUnitOverhead = 128 << 10
	// sizeAfterBlocks is how many small blocks are timed before the limit
	// moves from the minimum: the first few are encoded while the
	// compressor is idle and much faster than the rest, which would size
	// the limit several times too high. One round of the minimum in
	// flight is enough: against a store 50 ms away every round costs
	// two round trips (data file, then metadata.json), and four rounds
	// before sizing (64 blocks) cost a tenth of a 10,000-collection
	// export (measured: 79 % → 84 % of the PUT-only floor at 50 ms);
	// against loopback the target stays at the minimum either way.
	sizeAfterBlocks = 16
	// latencyWeight is the weight of a new sample in the logged mean
	// write time.
	latencyWeight = 0.05
)

// smallLimiter admits small units while fewer than its current limit are
// in flight and their bytes fit the budget.
type smallLimiter struct {
	comp    *compressor
	workers int

	mu       sync.Mutex
	cond     *sync.Cond
	inflight int
	bytes    int64
	limit    int
	max      int // the highest limit reached, for the log

	latency atomic.Int64 // shortest WriteAll time, ns; 0 until measured
	mean    atomic.Int64 // mean WriteAll time, ns, for the log
}

// newSmallLimiter returns a limiter sized from comp's busy time.
func newSmallLimiter(comp *compressor) *smallLimiter {
	l := &smallLimiter{comp: comp, workers: comp.workers, limit: smallInFlightMin, max: smallInFlightMin}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// acquire waits for a slot for a unit of size bytes of BSON, or for ctx to
// end. A unit larger than the budget is admitted alone.
func (l *smallLimiter) acquire(ctx context.Context, size int64) error {
	size += smallUnitOverhead
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if l.inflight == 0 || (l.inflight < l.limit && l.bytes+size <= smallBudgetBytes) {
			l.inflight++
			l.bytes += size
			return nil
		}
		l.cond.Wait()
	}
}

// release frees a unit's slot and resizes the limit from what has been
// measured so far.
func (l *smallLimiter) release(size int64) {
	size += smallUnitOverhead
	n := l.target()
	l.mu.Lock()
	l.inflight--
	l.bytes -= size
	if n != l.limit {
		l.limit = n
		l.max = max(l.max, n)
	}
	l.mu.Unlock()
	l.cond.Broadcast()
}

// current is the limit in effect.
func (l *smallLimiter) current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// highest is the highest limit reached.
func (l *smallLimiter) highest() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max
}

// target is P·(C+L)/C within [smallInFlightMin, smallInFlightMax].
func (l *smallLimiter) target() int {
	lat := time.Duration(l.latency.Load())
	c := l.comp.meanBusy()
	if lat <= 0 || c <= 0 || l.comp.blocks.Load() < sizeAfterBlocks {
		return smallInFlightMin
	}
	n := float64(l.workers) * float64(c+lat) / float64(c)
	if math.IsNaN(n) || n > smallInFlightMax {
		return smallInFlightMax
	}
	return max(smallInFlightMin, int(math.Ceil(n)))
}

// observe records one WriteAll's duration.
func (l *smallLimiter) observe(d time.Duration) {
	for {
		old := l.latency.Load()
		if old != 0 && old <= int64(d) {
			break
		}
		if l.latency.CompareAndSwap(old, int64(d)) {
			break
		}
	}
	for {
		old := l.mean.Load()
		next := int64(d)
		if old != 0 {
			next = int64(float64(old)*(1-latencyWeight) + float64(d)*latencyWeight)
		}
		if l.mean.CompareAndSwap(old, next) {
			return
		}
	}
}

// timedBucket measures the destination's single-request writes for the
// limiter.
type timedBucket struct {
	blob.Bucket
	l *smallLimiter
}

// WriteAll writes the object and records how long it took when it
// succeeded (a failure's timing says nothing about the round trip).
func (b timedBucket) WriteAll(ctx context.Context, key string, data []byte, opts *blob.WriterOptions) error {
	start := time.Now()
	err := b.Bucket.WriteAll(ctx, key, data, opts)
	if err == nil {
		b.l.observe(time.Since(start))
	}
	return err
}

// busyMeter accumulates the compressor's encode time per block.
type busyMeter struct {
	ns, blocks atomic.Int64
}

// add records one block's encode time.
func (m *busyMeter) add(d time.Duration) {
	m.ns.Add(int64(d))
	m.blocks.Add(1)
}

// meanBusy is the mean encode time per block so far (0 before the first).
func (m *busyMeter) meanBusy() time.Duration {
	n := m.blocks.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(m.ns.Load() / n)
}

// defaultWorkers is the compressor's worker count for n ≤ 0.
func defaultWorkers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// SetDocuments passes a data file's document count on to the wrapped
// bucket when it keeps a manifest (noteDocuments finds it through this
// wrapper).
func (b timedBucket) SetDocuments(key string, docs int64) {
	if c, ok := b.Bucket.(documentCounter); ok {
		c.SetDocuments(key, docs)
	}
}
