package export

import (
	"context"
	"sync"
)

// workerGroup runs tasks like errgroup.Group (the first error cancels the
// group's context and is what Wait returns) but on goroutines it keeps:
// a task is handed to an idle worker when there is one, and only
// otherwise starts a new goroutine, which then serves later tasks until
// Wait. A job of thousands of small collections would otherwise start a
// goroutine per collection whose stack grows, copy by copy, to the depth
// of the store client's call chain (the AWS SDK's middleware stack is
// dozens of frames deep): measured as ~6 % of the export's CPU.
// Admission stays with the caller (smallLimiter, the large semaphore), so
// the number of workers never exceeds the most tasks run at once.
type workerGroup struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	tasks  chan func() error
	wg     sync.WaitGroup

	once sync.Once
	err  error
}

// newWorkerGroup returns a group whose context is derived from ctx.
func newWorkerGroup(ctx context.Context) (*workerGroup, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	return &workerGroup{ctx: ctx, cancel: cancel, tasks: make(chan func() error)}, ctx
}

// Go runs f on an idle worker, or on a new one when none is idle.
func (g *workerGroup) Go(f func() error) {
	select {
	case g.tasks <- f:
	default:
		g.wg.Add(1)
		go g.serve(f)
	}
}

// serve runs f, then every task handed to it until the group is closed.
func (g *workerGroup) serve(f func() error) {
	defer g.wg.Done()
	for {
		if err := f(); err != nil {
			g.once.Do(func() {
				g.err = err
				g.cancel(err)
			})
		}
		var ok bool
		if f, ok = <-g.tasks; !ok {
			return
		}
	}
}

// Wait waits for every task, stops the workers and returns the first
// error. The group must not be used after Wait.
func (g *workerGroup) Wait() error {
	close(g.tasks)
	g.wg.Wait()
	g.cancel(nil)
	return g.err
}
