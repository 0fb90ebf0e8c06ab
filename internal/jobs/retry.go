package jobs

import "time"

// Retry bounds a job's attempts: at most MaxAttempts, the wait before
// attempt n+1 being Backoff·2^(n−1), at most MaxBackoff.
type Retry struct {
	// MaxAttempts is how many attempts a job gets; the last failure ends it.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt.
	Backoff time.Duration
	// MaxBackoff caps the doubling wait.
	MaxBackoff time.Duration
}

// Delay is the wait after failed attempt n (n ≥ 1).
func (r Retry) Delay(n int) time.Duration {
	d := r.Backoff
	for i := 1; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// TotalWait is the longest a job spends waiting between its attempts:
// the sum of the delays after attempts 1..MaxAttempts−1.
func (r Retry) TotalWait() time.Duration {
	var sum time.Duration
	for n := 1; n < r.MaxAttempts; n++ {
		sum += r.Delay(n)
	}
	return sum
}

// final reports whether attempt n is the last one.
func (r Retry) final(n int) bool { return n >= r.MaxAttempts }
