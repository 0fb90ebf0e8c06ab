package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// delayProxy puts a fixed latency in front of an S3 server: every request
// waits d before it is forwarded, like a store tens of milliseconds away
// (same region ~20 ms, cross region ~50 ms per request). Bandwidth is not
// limited: the point is per-request latency, which small objects are
// bound by. It is a few lines over httputil.ReverseProxy rather than
// internal/faultproxy, which records every request (100,000s in a run).
type delayProxy struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

// startDelayProxy listens on a random loopback port and forwards to
// target after d.
func startDelayProxy(target string, d time.Duration) (*delayProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("delay proxy target %q: %w", target, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 1024
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// SigV4 signs the Host the client addressed (the proxy).
			r.Out.Host = r.In.Host
		},
		Transport: tr,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("delay proxy: %w", err)
	}
	p := &delayProxy{URL: "http://" + ln.Addr().String(), ln: ln}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("delay proxy: %v", err)
		}
	}()
	return p, nil
}

func (p *delayProxy) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}
