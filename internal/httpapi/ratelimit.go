package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"golang.org/x/time/rate"
)

// RateLimiter limits each API key or service account to a number of
// requests per minute, as Atlas does, with a token bucket that refills
// evenly (so a burst of the whole minute's budget is allowed). Limits are
// per process: with N replicas behind a balancer a caller gets up to N
// times the budget.
type RateLimiter struct {
	perMinute int
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
}

// NewRateLimiter allows perMinute requests per caller per minute.
func NewRateLimiter(perMinute int) *RateLimiter {
	return &RateLimiter{perMinute: perMinute, buckets: map[string]*rate.Limiter{}}
}

// allow takes one request from the caller's budget, sets RateLimit-Limit
// and RateLimit-Remaining, and returns 429 RATE_LIMITED with Retry-After
// when the budget is spent.
func (l *RateLimiter) allow(h http.Header, caller string, now time.Time) *atlas.Error {
	l.mu.Lock()
	b, ok := l.buckets[caller]
	if !ok {
		b = rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)
		l.buckets[caller] = b
	}
	l.mu.Unlock()
	h.Set("RateLimit-Limit", strconv.Itoa(l.perMinute))
	if b.AllowN(now, 1) {
		h.Set("RateLimit-Remaining", strconv.Itoa(int(math.Max(0, math.Floor(b.TokensAt(now))))))
		return nil
	}
	h.Set("RateLimit-Remaining", "0")
	wait := time.Duration((1 - b.TokensAt(now)) / float64(b.Limit()) * float64(time.Second))
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return atlas.ErrRateLimited(l.perMinute, int(math.Ceil(wait.Seconds())))
}
