package export

import (
	"context"
	"testing"
	"time"
)

// TestLargeSlotsHandOver checks that a finishing collection lets the next
// one start, and that no more collections finish than run.
func TestLargeSlotsHandOver(t *testing.T) {
	ctx := context.Background()
	s := newLargeSlots(1)
	a, err := s.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.acquire(timeout(t, 20*time.Millisecond)); err == nil {
		t.Fatal("a second collection got the only running slot")
	}
	a.finish(ctx)
	a.finish(ctx) // idempotent: must not take a second finishing slot
	b, err := s.acquire(timeout(t, time.Second))
	if err != nil {
		t.Fatalf("the next collection did not start while the first finishes: %v", err)
	}
	// b cannot move to finishing while a still finishes: it keeps running.
	b.finish(timeout(t, 20*time.Millisecond))
	if b.finishing {
		t.Fatal("two collections finishing with one slot")
	}
	if _, err := s.acquire(timeout(t, 20*time.Millisecond)); err == nil {
		t.Fatal("a third collection started while b still runs")
	}
	a.release()
	b.finish(timeout(t, time.Second))
	if !b.finishing {
		t.Fatal("b did not move to finishing once a was done")
	}
	c, err := s.acquire(timeout(t, time.Second))
	if err != nil {
		t.Fatalf("c did not start once b finishes: %v", err)
	}
	c.release()
	b.release()
	if len(s.running) != 0 || len(s.finishing) != 0 {
		t.Fatalf("slots left held: running %d, finishing %d", len(s.running), len(s.finishing))
	}
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
