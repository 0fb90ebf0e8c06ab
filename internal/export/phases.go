package export

import "time"

// phaseTimes measures how long one run of an export spent in each of its
// steps, for the log line that ends a successful run: an operator (and the
// benchmark harness) sees whether the data files, Atlas's metadata.json
// pass after them, or the setup before them took the time.
type phaseTimes struct {
	last  time.Time
	attrs []any // name, duration pairs, in order
}

// startPhases starts timing the first phase now.
func startPhases() *phaseTimes { return &phaseTimes{last: time.Now()} }

// end closes the phase called name and starts the next one.
func (p *phaseTimes) end(name string) {
	now := time.Now()
	p.attrs = append(p.attrs, name, now.Sub(p.last).Round(time.Microsecond))
	p.last = now
}

// logAttrs are the phases as slog key-value pairs, after the job's id.
func (p *phaseTimes) logAttrs(jobID string) []any {
	return append([]any{"job", jobID}, p.attrs...)
}
