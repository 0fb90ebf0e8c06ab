package export

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSmallLimiterSizesFromLatency checks Little's law sizing: the limit
// stays at the minimum until both times are measured, follows P·(C+L)/C,
// and is capped.
func TestSmallLimiterSizesFromLatency(t *testing.T) {
	comp := &compressor{workers: 2}
	l := newSmallLimiter(comp)
	if got := l.target(); got != smallInFlightMin {
		t.Fatalf("unmeasured target = %d, want %d", got, smallInFlightMin)
	}
	l.observe(2 * time.Millisecond)
	for range sizeAfterBlocks - 1 {
		comp.add(100 * time.Microsecond)
	}
	if got := l.target(); got != smallInFlightMin {
		t.Fatalf("target after %d timed blocks = %d, want %d until %d", sizeAfterBlocks-1, got, smallInFlightMin, sizeAfterBlocks)
	}
	comp.add(100 * time.Microsecond)
	// 2 · (0.1 + 2) / 0.1 = 42
	if got := l.target(); got != 42 {
		t.Fatalf("target at 2 ms store latency, 0.1 ms encode = %d, want 42", got)
	}
	// Queueing in the store (slower writes) does not raise the limit:
	// it follows the shortest write.
	for range 200 {
		l.observe(200 * time.Millisecond)
	}
	if got := l.target(); got != 42 {
		t.Fatalf("target after slower writes = %d, want 42 (from the shortest)", got)
	}
	l = newSmallLimiter(comp) // comp has timed enough blocks
	l.observe(50 * time.Millisecond)
	if got := l.target(); got != smallInFlightMax {
		t.Fatalf("target at 50 ms store latency = %d, want the cap %d", got, smallInFlightMax)
	}
	// A fast store and slow encoding keep the minimum.
	comp2 := &compressor{workers: 2}
	for range sizeAfterBlocks {
		comp2.add(10 * time.Millisecond)
	}
	l2 := newSmallLimiter(comp2)
	l2.observe(time.Millisecond)
	if got := l2.target(); got != smallInFlightMin {
		t.Fatalf("target with encode ≫ latency = %d, want %d", got, smallInFlightMin)
	}
}

// TestSmallLimiterBoundsCountAndBytes checks that admission stops at the
// limit and at the byte budget, resumes on release, and ends with ctx.
func TestSmallLimiterBoundsCountAndBytes(t *testing.T) {
	ctx := context.Background()
	l := newSmallLimiter(&compressor{workers: 2})
	for i := 0; i < smallInFlightMin; i++ {
		if err := l.acquire(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	blocked := make(chan error, 1)
	go func() { blocked <- l.acquire(ctx, 1) }()
	select {
	case err := <-blocked:
		t.Fatalf("acquire beyond the limit returned %v instead of waiting", err)
	case <-time.After(50 * time.Millisecond):
	}
	l.release(1)
	select {
	case err := <-blocked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("acquire did not proceed after a release")
	}

	// Bytes: one unit of almost the whole budget leaves no room for a
	// second of half of it, even with slots free.
	l = newSmallLimiter(&compressor{workers: 2})
	if err := l.acquire(ctx, smallBudgetBytes-10); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.acquire(cctx, smallBudgetBytes/2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire over the byte budget = %v, want the context's deadline", err)
	}
	// A unit larger than the budget is still admitted when alone.
	l.release(smallBudgetBytes - 10)
	if err := l.acquire(ctx, 2*smallBudgetBytes); err != nil {
		t.Fatalf("an oversized unit alone: %v", err)
	}
}
