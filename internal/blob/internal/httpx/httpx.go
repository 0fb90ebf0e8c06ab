// Package httpx builds the HTTP client every blob driver uses, so a store
// that accepts a request and never answers cannot hang an upload: the
// request fails with a timeout, which the drivers' retry policies retry.
package httpx

import (
	"net"
	"net/http"
	"time"
)

// DefaultRequestTimeout bounds how long a store may take to start
// answering a request once it has been sent.
const DefaultRequestTimeout = 2 * time.Minute

// MaxIdleConnsPerHost is how many idle connections to one store a client
// keeps: more than an export's uploads in flight (up to 256 small
// collections at once against a store with tens of milliseconds of
// latency, plus large ones' parts), so that connections are reused instead
// of closed after each request and dialed again (Go's default keeps 2,
// the AWS SDK's 10).
const MaxIdleConnsPerHost = 288

// Client returns an HTTP client whose requests fail when the store sends no
// response headers within timeout of the request being written (0 means
// DefaultRequestTimeout). Connecting and TLS are bounded too; reading a
// response body is not (a download may be long), nor is the request's
// whole duration (a part upload may be large and slow).
func Client(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 30 * time.Second
	tr.ResponseHeaderTimeout = Timeout(timeout)
	tr.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return &http.Client{Transport: tr}
}

// Timeout is the response timeout in effect: timeout, or
// DefaultRequestTimeout when it is not positive.
func Timeout(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return DefaultRequestTimeout
	}
	return timeout
}
