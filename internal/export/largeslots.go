package export

import "context"

// largeSlots bounds the large collections of a job. A collection holds a
// running slot while its documents are read and compressed; once the last
// document is handed to compression it moves to a finishing slot and
// frees its running slot, so the next collection starts reading while
// this one waits for its last blocks and its final upload requests (the
// last part and the multipart completion: two store round trips, which
// at 50 ms of latency left a core idle at the end of every collection).
// At most as many collections finish as run, so memory stays bounded:
// a finishing collection holds at most its last blocks and the upload
// parts not yet sent.
type largeSlots struct {
	running, finishing chan struct{}
}

// newLargeSlots returns slots for n large collections running at once.
func newLargeSlots(n int) *largeSlots {
	n = max(1, n)
	return &largeSlots{running: make(chan struct{}, n), finishing: make(chan struct{}, n)}
}

// largeSlot is one collection's hold on largeSlots; it is used by the
// collection's own goroutine only.
type largeSlot struct {
	s         *largeSlots
	finishing bool
}

// acquire waits for a running slot, or for ctx to end.
func (s *largeSlots) acquire(ctx context.Context) (*largeSlot, error) {
	select {
	case s.running <- struct{}{}:
		return &largeSlot{s: s}, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// finish moves the slot from running to finishing once a finishing slot
// is free; if ctx ends first the slot stays running. Calling it again does
// nothing.
func (l *largeSlot) finish(ctx context.Context) {
	if l == nil || l.finishing {
		return
	}
	select {
	case l.s.finishing <- struct{}{}:
		l.finishing = true
		<-l.s.running
	case <-ctx.Done():
	}
}

// release frees whichever slot is held.
func (l *largeSlot) release() {
	if l.finishing {
		<-l.s.finishing
		return
	}
	<-l.s.running
}
