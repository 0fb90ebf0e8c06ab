package capture

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/testenv"
)

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// TestTakeUnreachable: a deployment that refuses connections, or accepts
// them and never answers, fails the capture with an error naming the
// replica set and its address, within the configured timeouts (which
// override the URI's), and nothing is written.
func TestTakeUnreachable(t *testing.T) {
	const timeout = time.Second
	cases := []struct {
		name string
		addr string
	}{
		{"closed port", closedPort(t)},
		{"silent server", silentServer(t)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newStorage(t)
			began := time.Now()
			_, err := Take(context.Background(), Options{
				SnapshotID: "down",
				// The URI asks for ten minutes; the options win.
				ReplicaSets:            []Source{{Name: "rs-down", URI: "mongodb://user:secret@" + tc.addr + "/?serverSelectionTimeoutMS=600000&connectTimeoutMS=600000"}},
				Storage:                st,
				ConnectTimeout:         timeout,
				ServerSelectionTimeout: timeout,
			})
			took := time.Since(began)
			if err == nil {
				t.Fatal("Take of an unreachable deployment succeeded")
			}
			t.Logf("after %v: %v", took, err)
			msg := err.Error()
			for _, want := range []string{`replica set "rs-down"`, tc.addr} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q: %s", want, msg)
				}
			}
			if strings.Contains(msg, "secret") {
				t.Errorf("error reveals the password: %s", msg)
			}
			// A hang would be many times this; the driver needs about the
			// selection timeout plus a heartbeat.
			if took > timeout+15*time.Second {
				t.Errorf("failing took %v with a %v timeout", took, timeout)
			}
			if objs, err := st.List(context.Background(), ""); err != nil || len(objs) != 0 {
				t.Errorf("storage after failure: %v %v", objs, err)
			}
		})
	}
}

// TestTakeShardUnreachable: one unreachable shard fails the whole capture
// of a sharded cluster, names that shard, and leaves no snapshot.
func TestTakeShardUnreachable(t *testing.T) {
	uri := testenv.FerretDB(t)
	insertAll(t, connectClient(t, uri).Database("app").Collection("a"), []any{bson.D{{Key: "_id", Value: 1}}})
	addr := closedPort(t)
	st := newStorage(t)
	_, err := Take(context.Background(), Options{
		SnapshotID: "half",
		Type:       snapshot.ClusterShardedCluster,
		ReplicaSets: []Source{
			{Name: "shard0", URI: uri},
			{Name: "shard1", URI: "mongodb://" + addr},
		},
		Storage:                st,
		ConnectTimeout:         time.Second,
		ServerSelectionTimeout: time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), `replica set "shard1" (`+addr+`)`) {
		t.Fatalf("error %v, want one naming shard1 and %s", err, addr)
	}
	if objs, err := st.List(context.Background(), ""); err != nil || len(objs) != 0 {
		t.Errorf("storage after failure: %v %v", objs, err)
	}
}

// hookStorage is a dirStorage that reports writes to data files, so a test
// can act in the middle of a capture.
type hookStorage struct {
	*dirStorage
	onDataWrite func(key string)
	mu          sync.Mutex
	created     []string
}

func (h *hookStorage) Create(ctx context.Context, key string) (snapshot.ObjectWriter, error) {
	h.mu.Lock()
	h.created = append(h.created, key)
	h.mu.Unlock()
	w, err := h.dirStorage.Create(ctx, key)
	if err != nil || !strings.HasSuffix(key, ".bson.gz") {
		return w, err
	}
	return hookWriter{ObjectWriter: w, key: key, h: h}, nil
}

func (h *hookStorage) createdKeys() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.created...)
}

type hookWriter struct {
	snapshot.ObjectWriter
	key string
	h   *hookStorage
}

func (w hookWriter) Write(p []byte) (int, error) {
	w.h.onDataWrite(w.key)
	return w.ObjectWriter.Write(p)
}

// TestTakeCancelled cancels the capture while the first collection's data
// is being written: Take stops with context.Canceled, starts no further
// collection, and leaves no manifest and no object.
func TestTakeCancelled(t *testing.T) {
	uri := testenv.FerretDB(t)
	client := connectClient(t, uri)
	for _, name := range []string{"a", "b", "c"} {
		var docs []any
		for i := range 2000 {
			noise := make([]byte, 1024) // incompressible, so data reaches storage early
			_, _ = rand.Read(noise)
			docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "noise", Value: bson.Binary{Data: noise}}})
		}
		insertAll(t, client.Database("big").Collection(name), docs)
	}
	dir := newStorage(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt atomic.Int64
	var createdBefore atomic.Int64
	st := &hookStorage{dirStorage: dir}
	st.onDataWrite = func(string) {
		if cancelledAt.CompareAndSwap(0, time.Now().UnixNano()) {
			createdBefore.Store(int64(len(st.createdKeys())))
			cancel()
		}
	}
	_, err := Take(ctx, Options{
		SnapshotID:  "cancelled",
		ReplicaSets: []Source{{Name: "rs0", URI: uri}},
		Storage:     st,
		Parallelism: 1,
		BatchSize:   100,
		Logger:      testLogger(t),
	})
	returned := time.Now()
	if cancelledAt.Load() == 0 {
		t.Fatalf("no data was written before the end (err %v)", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Take after cancel: %v, want context.Canceled", err)
	}
	t.Logf("returned %v after cancel: %v", returned.Sub(time.Unix(0, cancelledAt.Load())), err)
	if keys := st.createdKeys(); int64(len(keys)) != createdBefore.Load() {
		t.Errorf("objects created after the cancel: %v (before: %d)", keys[createdBefore.Load():], createdBefore.Load())
	}
	for _, k := range st.createdKeys() {
		if strings.Contains(k, "/big/b.") || strings.Contains(k, "/big/c.") || strings.HasSuffix(k, snapshot.ManifestFile) {
			t.Errorf("object %s was started although the first collection was cancelled", k)
		}
	}
	if objs, err := dir.List(context.Background(), ""); err != nil || len(objs) != 0 {
		t.Errorf("storage after cancel: %v %v", objs, err)
	}
	if _, err := snapshot.Open(context.Background(), dir, "cancelled"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after cancel: %v, want not exist", err)
	}
	if d := returned.Sub(time.Unix(0, cancelledAt.Load())); d > 30*time.Second {
		t.Errorf("Take returned %v after the cancel", d)
	}
}

// TestOptionsRefused: options that cannot work fail before any connection.
func TestOptionsRefused(t *testing.T) {
	st := newStorage(t)
	src := []Source{{Name: "rs0", URI: "mongodb://127.0.0.1:1"}}
	two := []Source{{Name: "a", URI: "mongodb://127.0.0.1:1"}, {Name: "b", URI: "mongodb://127.0.0.1:2"}}
	cases := map[string]struct {
		opts Options
		want string
	}{
		"no id":             {Options{ReplicaSets: src, Storage: st}, "snapshot id"},
		"bad id":            {Options{SnapshotID: "../x", ReplicaSets: src, Storage: st}, "snapshot id"},
		"no storage":        {Options{SnapshotID: "s", ReplicaSets: src}, "no storage"},
		"no sources":        {Options{SnapshotID: "s", Storage: st}, "no replica sets"},
		"several, no type":  {Options{SnapshotID: "s", ReplicaSets: two, Storage: st}, "without a cluster type"},
		"several, rs type":  {Options{SnapshotID: "s", ReplicaSets: two, Storage: st, Type: snapshot.ClusterReplicaSet}, "with 2 replica sets"},
		"unknown type":      {Options{SnapshotID: "s", ReplicaSets: src, Storage: st, Type: "mesh"}, "unknown cluster type"},
		"no uri":            {Options{SnapshotID: "s", ReplicaSets: []Source{{Name: "x"}}, Storage: st}, "has no URI"},
		"bad name":          {Options{SnapshotID: "s", ReplicaSets: []Source{{Name: strings.Repeat("n", 256), URI: "mongodb://h"}}, Storage: st}, "longer than 255"},
		"negative":          {Options{SnapshotID: "s", ReplicaSets: src, Storage: st, Parallelism: -1}, "negative"},
		"bad uri":           {Options{SnapshotID: "s", ReplicaSets: []Source{{Name: "rs9", URI: "http://nope"}}, Storage: st}, `replica set "rs9": connection string`},
		"bad gzip level":    {Options{SnapshotID: "s", ReplicaSets: src, Storage: st, GzipLevel: 12}, "gzip level 12"},
		"same name twice":   {Options{SnapshotID: "s", ReplicaSets: []Source{src[0], src[0]}, Storage: st, Type: snapshot.ClusterShardedCluster}, "given twice"},
		"cancelled context": {Options{SnapshotID: "s", ReplicaSets: src, Storage: st}, "context canceled"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if name == "cancelled context" {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			began := time.Now()
			_, err := Take(ctx, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if time.Since(began) > 15*time.Second {
				t.Errorf("refusing took %v", time.Since(began))
			}
			if name == "cancelled context" && !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		})
	}
	if objs, err := st.List(context.Background(), ""); err != nil || len(objs) != 0 {
		t.Errorf("storage after refusals: %v %v", objs, err)
	}
}
