package apitest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"
)

// Transport is an http.RoundTripper that validates every response it
// carries with CheckResponse and fails the test on a mismatch.
type Transport struct {
	T    testing.TB
	Base http.RoundTripper

	mu      sync.Mutex
	checked int
}

// NewTransport wraps base (http.DefaultTransport when nil).
func NewTransport(t testing.TB, base http.RoundTripper) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{T: t, Base: base}
}

// RoundTrip implements http.RoundTripper.
func (tr *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tr.Base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := CheckResponse(req, resp, body); err != nil {
		tr.T.Errorf("OpenAPI check: %v", err)
	}
	tr.mu.Lock()
	tr.checked++
	tr.mu.Unlock()
	return resp, nil
}

// Checked is how many responses were validated.
func (tr *Transport) Checked() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.checked
}

// Client is an http.Client over a validating transport.
func (tr *Transport) Client() *http.Client { return &http.Client{Transport: tr} }
