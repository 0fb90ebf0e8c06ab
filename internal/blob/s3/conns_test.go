package s3

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/snapex/snapex/internal/testenv"
)

// TestConnectionsAreReused: 16 uploads at once, round after round (as
// an export of small collections sends them), reuse their connections
// instead of dialing new ones. With the AWS SDK's default idle pool (10
// per host), every round found only 10 idle connections and dialed 6.
func TestConnectionsAreReused(t *testing.T) {
	srv := testenv.VersityGW(t)
	name := newBucketName(t, srv)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	fwd, dials := countingForwarder(t, target.Host)
	opts := serverOptions(srv, name)
	opts.Endpoint = "http://" + fwd
	b := open(t, opts)
	const writers, rounds = 16, 20
	for r := range rounds {
		var g errgroup.Group
		for w := range writers {
			g.Go(func() error {
				return b.WriteAll(t.Context(), fmt.Sprintf("r%02d/w%02d", r, w), []byte("small object"), nil)
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d connections for %d requests", dials.Load(), writers*rounds)
	// One connection per writer, plus a few for requests that overlapped
	// while another connection was being returned to the pool.
	if n := dials.Load(); n > 2*writers {
		t.Errorf("%d connections for %d requests in rounds of %d, want at most %d", n, writers*rounds, writers, 2*writers)
	}
}

// countingForwarder listens on 127.0.0.1, forwards every connection to
// target and counts the connections accepted. Its cleanup closes the
// connections still open (idle ones the client keeps).
func countingForwarder(t *testing.T, target string) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
	return ln.Addr().String(), &n
}
