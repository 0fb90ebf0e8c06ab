package restore_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
)

// cutProxy forwards TCP connections to a server and can cut them all.
type cutProxy struct {
	mu    sync.Mutex
	conns []net.Conn
}

// startCutProxy proxies the mongodb:// URI and returns the proxy's URI.
func startCutProxy(t *testing.T, uri string) (*cutProxy, string) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	upstream := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &cutProxy{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	u.Host = ln.Addr().String()
	return p, u.String()
}

// cut closes every connection made so far.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestRestoreRetriesAfterConnectionLoss: connections to the target cut
// between batches make the next bulk insert fail with a network error;
// the batch is sent again (in uncertain mode) and the restore finishes
// with every document exactly once.
func TestRestoreRetriesAfterConnectionLoss(t *testing.T) {
	dir := t.TempDir()
	want := atlasExport(t, dir)
	proxy, uri := startCutProxy(t, testenv.FerretDB(t))
	client := connect(t, uri)
	batches := 0
	var logs strings.Builder
	e := engine(t, openDir(t, dir), atlasPrefix, client, restore.Options{BatchDocs: 64, Parallelism: 1})
	e.Log = testLoggerTo(t, &logs)
	e.AfterBatch = func(string, int64) {
		// One worker: what follows a batch is the next bulk insert.
		if batches++; batches == 3 || batches == 9 {
			proxy.cut()
		}
	}
	rep, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "write to the target failed; trying again"); n < 2 {
		t.Errorf("%d retries logged, want one per cut at least", n)
	}
	for _, nr := range rep.Namespaces {
		if nr.Status != restore.StatusComplete || nr.Counted != int64(len(want[nr.Source])) {
			t.Errorf("%s: %+v", nr.Source, nr)
		}
	}
	exp := map[string]string{}
	for _, d := range want["sample_mflix.movies"] {
		exp[canonical(t, bson.D{d[0]})] = canonical(t, d)
	}
	sameDocs(t, "movies", canonicalDocs(t, client.Database("sample_mflix").Collection("movies")), exp)
}
