package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// barRenderer draws the watched job as a progress bar on a terminal: one
// bar for the job's bytes (or, without snapex's extension, its
// collections), with documents, rate, ETA, the attempt and the last error
// while it retries; the final state and reason are printed below it.
type barRenderer struct {
	out io.Writer
	p   *mpb.Progress
	bar *mpb.Bar
	// parts are the bars of a sharded export's components, by replica set.
	parts map[string]*mpb.Bar

	mu   sync.Mutex
	cur  Progress
	rate rateMeter
	// speed and eta are the last rate observation, shown by decorators.
	speed, eta string
}

func newBarRenderer(out io.Writer) Renderer {
	return &barRenderer{out: out}
}

// status is the text after the bar: counts, rate, ETA, attempt, error.
func (r *barRenderer) status(decor.Statistics) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.cur
	s := p.State
	if p.Extended {
		s += " · " + p.counts()
		if r.speed != "" {
			s += " · " + r.speed
		}
		if r.eta != "" {
			s += " · ETA " + r.eta
		}
		if p.Attempt > 1 || p.LastError != "" {
			s += fmt.Sprintf(" · attempt %d", p.Attempt)
		}
		if p.LastError != "" && !terminalState(p.State) {
			s += " · last error: " + p.LastError
		}
	} else if p.Total > 0 {
		s += fmt.Sprintf(" · %d/%d collections %s", p.Done, p.Total, p.unit())
	}
	return s
}

// amounts are the bar's current and total: bytes with the extension,
// collections without.
func amounts(p Progress) (cur, total int64) {
	if p.Extended && p.BytesTotal > 0 {
		return p.Bytes, p.BytesTotal
	}
	if p.Extended && p.Total > 0 {
		return int64(p.Done), int64(p.Total)
	}
	return int64(p.Done), int64(p.Total)
}

func (r *barRenderer) Update(p Progress) {
	r.mu.Lock()
	r.cur = p
	if speed, eta, ok := r.rate.observe(time.Now(), p); ok {
		r.speed, r.eta = speed, eta
	}
	r.mu.Unlock()
	cur, total := amounts(p)
	if r.bar == nil {
		r.p = mpb.New(mpb.WithOutput(r.out), mpb.WithAutoRefresh(), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
		r.bar = r.p.New(max(total, 1), mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(p.Kind+" "+p.ID+" "), decor.Percentage(decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.Any(r.status, decor.WCSyncSpaceR)))
	}
	if total > 0 {
		r.bar.SetTotal(total, false)
	}
	r.bar.SetCurrent(cur)
	for _, c := range p.Components {
		part := r.parts[c.ReplicaSet]
		if part == nil {
			if r.parts == nil {
				r.parts = map[string]*mpb.Bar{}
			}
			part = r.p.New(max(c.BytesTotal, 1), mpb.BarStyle(),
				mpb.PrependDecorators(decor.Name("  "+c.ReplicaSet+" "), decor.Percentage(decor.WCSyncSpace)),
				mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncSpaceR)))
			r.parts[c.ReplicaSet] = part
		}
		part.SetTotal(max(c.BytesTotal, 1), false)
		part.SetCurrent(c.Bytes)
	}
}

func (r *barRenderer) Finish(p Progress, ok bool) {
	r.Update(p)
	for _, part := range r.parts {
		if ok {
			part.SetTotal(max(part.Current(), 1), true)
		} else {
			part.Abort(false)
		}
	}
	if ok {
		cur, _ := amounts(p)
		r.bar.SetTotal(max(cur, 1), true)
	} else {
		r.bar.Abort(false)
	}
	r.p.Wait()
	fmt.Fprintf(r.out, "%s %s: %s\n", p.Kind, p.ID, p.State)
	if p.Reason != "" {
		fmt.Fprintf(r.out, "%s %s: %s\n", p.Kind, p.ID, p.Reason)
	}
}
