package httpapi_test

import (
	"strconv"
	"testing"

	"github.com/snapex/snapex/internal/httpapi"
)

func TestRateLimitPerCaller(t *testing.T) {
	e := newEnvWith(t, "sqlite", func(s *httpapi.Server) { s.Limiter = httpapi.NewRateLimiter(5) })
	path := groupPath(groupP1) + bucketsPath
	for i := 0; i < 5; i++ {
		r := e.do("GET", path, "2024-05-30", nil)
		e.expect(r, 200, "")
		if r.header.Get("RateLimit-Limit") != "5" || r.header.Get("RateLimit-Remaining") != strconv.Itoa(4-i) {
			t.Fatalf("request %d: limit %q remaining %q", i, r.header.Get("RateLimit-Limit"), r.header.Get("RateLimit-Remaining"))
		}
	}
	r := e.do("GET", path, "2024-05-30", nil)
	e.expect(r, 429, "RATE_LIMITED")
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if r.header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("remaining on 429: %q", r.header.Get("RateLimit-Remaining"))
	}
	// Another key has its own budget.
	other := e.doAs(readKey, readPriv, "GET", path, "2024-05-30", nil)
	e.expect(other, 200, "")
}
