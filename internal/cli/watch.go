package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// Progress is one observation of a watched job, as a renderer sees it.
type Progress struct {
	// Kind names the job for people: "export job" or "snapshot".
	Kind string
	// ID is the job's id.
	ID string
	// State is the job's state as the API spells it (InProgress, completed, …).
	State string
	// Reason is the stateReason message (with its error code) once the job
	// has failed or been cancelled.
	Reason string
	// Done and Total count collections exported; Total is 0 when unknown.
	Done, Total int
	// Unit says what the counts are ("exported" when empty, "captured").
	Unit string
	// Extended is set when the server sent snapex's progress extension,
	// which fills the fields below (real Atlas does not).
	Extended bool
	// Documents and Bytes (BSON) done so far, of their totals (0 when
	// unknown).
	Documents, DocumentsTotal, Bytes, BytesTotal int64
	// Attempt is the current attempt's number; LastError the last failed
	// attempt's error and NextAttemptAt when it is retried.
	Attempt                  int
	LastError, NextAttemptAt string
	// Components break a sharded cluster's export down by replica set.
	Components []ComponentProgress
	// Object is the SDK value of the last poll, for renderers that show
	// more than the fields above.
	Object any
}

// Renderer shows a watched job while it runs. The plain-line renderer is
// the default; a progress-bar renderer satisfies the same interface.
type Renderer interface {
	// Update is called after every poll.
	Update(p Progress)
	// Finish is called once with the terminal observation.
	Finish(p Progress, ok bool)
}

// lineRenderer prints a line whenever the state or the counts change, so
// its output reads well in a log or a pipe.
type lineRenderer struct {
	out  io.Writer
	last string
	rate rateMeter
}

// newRenderer picks the renderer for a watch writing to out: progress
// bars on a terminal, plain lines otherwise.
var newRenderer = func(out io.Writer) Renderer {
	if isTerminal(out) {
		return newBarRenderer(out)
	}
	return NewLineRenderer(out)
}

// NewLineRenderer returns the plain-line renderer writing to out.
func NewLineRenderer(out io.Writer) Renderer { return &lineRenderer{out: out} }

// line is what the line renderer prints; the rate is left out of the
// comparison that decides whether to print.
func (r *lineRenderer) line(p Progress) (key, full string) {
	s := fmt.Sprintf("%s %s: %s", p.Kind, p.ID, p.State)
	if p.Total > 0 {
		s += fmt.Sprintf(", %d/%d collections %s", p.Done, p.Total, p.unit())
	}
	if !p.Extended {
		return s, s
	}
	s += ", " + p.counts()
	tail := ""
	if p.Attempt > 1 || p.LastError != "" {
		tail += fmt.Sprintf(", attempt %d", p.Attempt)
	}
	if p.LastError != "" && !terminalState(p.State) {
		tail += ", last error: " + p.LastError
		if p.NextAttemptAt != "" {
			tail += " (retry at " + p.NextAttemptAt + ")"
		}
	}
	rate := ""
	if speed, eta, ok := r.rate.observe(time.Now(), p); ok && !terminalState(p.State) {
		rate = ", " + speed
		if eta != "" {
			rate += ", ETA " + eta
		}
	}
	return s + tail, s + rate + tail
}

func (r *lineRenderer) Update(p Progress) {
	if key, full := r.line(p); key != r.last {
		fmt.Fprintln(r.out, full)
		r.last = key
	}
}

func (r *lineRenderer) Finish(p Progress, ok bool) {
	r.Update(p)
	if !ok && p.Reason != "" {
		fmt.Fprintf(r.out, "%s %s: %s\n", p.Kind, p.ID, p.Reason)
	}
}

// maxUnreachable is how many polls in a row may go unanswered before a
// watch gives up: enough to ride out a server restart at the default
// interval, few enough not to hang on a wrong URL.
const maxUnreachable = 10

// watcher polls a job until it reaches a terminal state.
type watcher struct {
	interval time.Duration
	render   Renderer
	// warn receives a line for each unanswered poll that is retried.
	warn io.Writer
	// poll fetches the job once; terminal says whether it has ended and ok
	// whether it ended well.
	poll func(ctx context.Context) (p Progress, terminal, ok bool, err error)
}

// run polls until the job ends or ctx does; it returns an error naming
// the state and reason unless the job ended well.
func (w *watcher) run(ctx context.Context) error {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	unanswered := 0
	for {
		p, terminal, ok, err := w.poll(ctx)
		var unreachable *unreachableError
		switch {
		case err != nil && errors.As(err, &unreachable) && ctx.Err() == nil && unanswered < maxUnreachable:
			unanswered++
			if w.warn != nil {
				fmt.Fprintf(w.warn, "snapex: %v; retrying (%d/%d)\n", err, unanswered, maxUnreachable)
			}
			select {
			case <-ctx.Done():
				return err
			case <-t.C:
			}
			continue
		case err != nil:
			return err
		}
		unanswered = 0
		if terminal {
			w.render.Finish(p, ok)
			if ok {
				return nil
			}
			if p.Reason != "" {
				return fmt.Errorf("%s %s ended %s: %s", p.Kind, p.ID, p.State, p.Reason)
			}
			return fmt.Errorf("%s %s ended %s", p.Kind, p.ID, p.State)
		}
		w.render.Update(p)
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped watching %s %s: %w", p.Kind, p.ID, ctx.Err())
		case <-t.C:
		}
	}
}

// ComponentProgress is one replica set's share of a sharded export.
type ComponentProgress struct {
	ReplicaSet                                   string
	Documents, DocumentsTotal, Bytes, BytesTotal int64
}

// pollFunc reads one job's state once: its progress, whether it ended and
// whether that end is a success.
type pollFunc func(ctx context.Context, c *call, cluster, id string) (Progress, bool, bool, error)

// watchCommand is a "watch <id> --clusterName NAME" command that polls
// until the job ends and exits non-zero unless it ended well; every kind
// (snapshot, export job, restore job) only says how to read its state.
func watchCommand(s *session, use, short string, poll pollFunc) *cobra.Command {
	l := &leaf{s: s}
	var cluster string
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			w := &watcher{interval: interval, render: newRenderer(cmd.OutOrStdout()), warn: cmd.ErrOrStderr(),
				poll: func(ctx context.Context) (Progress, bool, bool, error) { return poll(ctx, c, cluster, args[0]) }}
			return w.run(c.ctx)
		},
	}
	l.addProject(cmd)
	clusterFlag(cmd, &cluster)
	pollInterval(cmd, &interval)
	return cmd
}
