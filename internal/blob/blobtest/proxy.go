package blobtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// FaultProxy is a reverse proxy in front of a real test server that
// answers chosen requests with 503 Service Unavailable instead of
// forwarding them, to show that drivers retry. It keeps the client's Host
// header, so signatures computed for the proxy's address stay valid.
type FaultProxy struct {
	// URL is the proxy's base URL (http://127.0.0.1:PORT).
	URL string
	// Injected counts the requests answered with 503.
	Injected atomic.Int64
	// Forwarded counts the requests passed to the server.
	Forwarded atomic.Int64

	mu   sync.Mutex
	seen map[string]bool
}

// NewFaultProxy starts a proxy to target (a base URL such as
// http://127.0.0.1:PORT). fail decides, for each request, whether to
// answer 503; it runs under a lock with the proxy, so it may use
// FirstTime. The proxy stops when the test ends.
func NewFaultProxy(t testing.TB, target string, fail func(p *FaultProxy, r *http.Request) bool) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("FaultProxy target %q: %v", target, err)
	}
	p := &FaultProxy{seen: map[string]bool{}}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ErrorLog = nil
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		bad := fail(p, r)
		p.mu.Unlock()
		if bad {
			p.Injected.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Retry-After", "0")
			http.Error(w, "injected fault", http.StatusServiceUnavailable)
			return
		}
		p.Forwarded.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// FirstTime reports whether id is seen for the first time. Call it only
// from the fail function.
func (p *FaultProxy) FirstTime(id string) bool {
	if p.seen[id] {
		return false
	}
	p.seen[id] = true
	return true
}
