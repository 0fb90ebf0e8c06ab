package gcs

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/api/googleapi"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
	"github.com/snapex/snapex/internal/testenv"
)

// testChunkSize is the smallest chunk GCS allows.
const testChunkSize = ChunkQuantum

var bucketSeq atomic.Int64

func newBucketName(t testing.TB, srv testenv.GCSServer) string {
	t.Helper()
	name := fmt.Sprintf("snapex-test-%d", bucketSeq.Add(1))
	srv.CreateBucket(t, name)
	return name
}

func open(t testing.TB, opts Options) blob.Bucket {
	t.Helper()
	b, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func serverOptions(srv testenv.GCSServer, bucket string) Options {
	return Options{Bucket: bucket, Endpoint: srv.Endpoint, ChunkSize: testChunkSize}
}

func TestConformance(t *testing.T) {
	srv := testenv.FakeGCS(t)
	blobtest.Run(t, func(t *testing.T) blob.Bucket {
		return open(t, serverOptions(srv, newBucketName(t, srv)))
	}, blobtest.Options{
		PartSize: testChunkSize,
		Denied: func(t *testing.T) blob.Bucket {
			opts := serverOptions(srv, newBucketName(t, srv))
			opts.CredentialsJSON = rejectedServiceAccount(t)
			return open(t, opts)
		},
	})
}

// rejectedServiceAccount returns a service-account key whose token
// endpoint refuses it the way Google's does for a deleted or wrong key
// (400 invalid_grant). fake-gcs-server checks no credentials at all, so
// the refusal has to come from the token exchange, which the storage
// client performs for real: it signs a JWT with the key and posts it.
func rejectedServiceAccount(t *testing.T) string {
	t.Helper()
	var assertions atomic.Int64
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("assertion") == "" {
			http.Error(w, "no assertion", http.StatusBadRequest)
			return
		}
		assertions.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
	}))
	t.Cleanup(tokens.Close)
	t.Cleanup(func() {
		if assertions.Load() == 0 {
			t.Error("the storage client never asked the token endpoint")
		}
	})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "snapex-test",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "exporter@snapex-test.iam.gserviceaccount.com",
		"client_id":      "1",
		"token_uri":      tokens.URL + "/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// TestResumableChunks counts the upload requests that reach the server:
// an object within one chunk goes in one multipart request, a larger one
// as a resumable session (one request to open it, one per chunk).
func TestResumableChunks(t *testing.T) {
	srv := testenv.FakeGCS(t)
	name := newBucketName(t, srv)
	var single, sessions, chunks atomic.Int64
	proxy := blobtest.NewFaultProxy(t, "http://"+srv.Host, func(_ *blobtest.FaultProxy, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/upload/") {
			q := r.URL.Query()
			switch {
			case q.Has("upload_id"):
				chunks.Add(1)
			case q.Get("uploadType") == "resumable":
				sessions.Add(1)
			default:
				single.Add(1)
			}
		}
		return false
	})
	b := open(t, Options{Bucket: name, Endpoint: proxy.URL, ChunkSize: testChunkSize})
	cases := []struct {
		size                    int
		single, sessions, parts int64
	}{
		{0, 1, 0, 0},
		{testChunkSize - 1, 1, 0, 0},
		{3*testChunkSize + 7, 0, 1, 4},
	}
	for _, c := range cases {
		single.Store(0)
		sessions.Store(0)
		chunks.Store(0)
		key := fmt.Sprintf("obj-%d", c.size)
		data := blobtest.Data(uint64(c.size), c.size)
		w, err := b.NewWriter(t.Context(), key, &blob.WriterOptions{ContentType: "application/gzip"})
		if err != nil {
			t.Fatal(err)
		}
		for rest := data; len(rest) > 0; {
			k := min(100_000, len(rest))
			if _, err := w.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatalf("Close %s: %v", key, err)
		}
		if single.Load() != c.single || sessions.Load() != c.sessions || chunks.Load() != c.parts {
			t.Errorf("%s: %d single, %d session and %d chunk requests, want %d, %d, %d",
				key, single.Load(), sessions.Load(), chunks.Load(), c.single, c.sessions, c.parts)
		}
		got, err := b.ReadAll(t.Context(), key)
		if err != nil || string(got) != string(data) {
			t.Fatalf("read back %s: %d bytes, %v", key, len(got), err)
		}
	}
}

// TestChunkRetries fails the first attempt of every upload request with
// 503 through a proxy: writes still succeed intact.
func TestChunkRetries(t *testing.T) {
	srv := testenv.FakeGCS(t)
	name := newBucketName(t, srv)
	proxy := blobtest.NewFaultProxy(t, "http://"+srv.Host, func(p *blobtest.FaultProxy, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/upload/") {
			return false
		}
		return p.FirstTime(r.Method + " " + r.URL.RawQuery + " " + r.Header.Get("Content-Range"))
	})
	b := open(t, Options{Bucket: name, Endpoint: proxy.URL, ChunkSize: testChunkSize})
	blobtest.WriteThroughFaults(t, b, open(t, serverOptions(srv, name)), 3*testChunkSize+11)
	// session start + 4 chunks + small upload.
	if got := proxy.Injected.Load(); got < 6 {
		t.Errorf("injected %d faults, want at least 6", got)
	}
}

func TestTransientKind(t *testing.T) {
	srv := testenv.FakeGCS(t)
	name := newBucketName(t, srv)
	proxy := blobtest.NewFaultProxy(t, "http://"+srv.Host, func(_ *blobtest.FaultProxy, r *http.Request) bool {
		return strings.HasPrefix(r.URL.Path, "/upload/")
	})
	b := open(t, Options{Bucket: name, Endpoint: proxy.URL, ChunkSize: testChunkSize, MaxAttempts: 2})
	err := b.WriteAll(t.Context(), "k", []byte("x"), nil)
	if blob.KindOf(err) != blob.KindTransient {
		t.Fatalf("WriteAll through a failing store: kind %v, want transient (err %v)", blob.KindOf(err), err)
	}
	if !strings.Contains(err.Error(), "gs://"+name+"/k") || !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q does not name the object and the status", err)
	}
	if got := proxy.Injected.Load(); got != 2 {
		t.Fatalf("%d attempts reached the store, want MaxAttempts = 2", got)
	}
}

func TestMissingBucket(t *testing.T) {
	srv := testenv.FakeGCS(t)
	b := open(t, serverOptions(srv, "no-such-bucket"))
	_, err := b.ReadAll(t.Context(), "k")
	if blob.KindOf(err) != blob.KindNotFound {
		t.Fatalf("read from a missing bucket: kind %v, want not found (err %v)", blob.KindOf(err), err)
	}
}

func TestListPaging(t *testing.T) {
	srv := testenv.FakeGCS(t)
	d, err := newDriver(context.Background(), serverOptions(srv, newBucketName(t, srv)))
	if err != nil {
		t.Fatal(err)
	}
	d.pageSize = 2
	b := blob.New(d)
	defer b.Close()
	var want []string
	for i := range 7 {
		k := fmt.Sprintf("p/%02d", i)
		want = append(want, k)
		if err := b.WriteAll(t.Context(), k, []byte(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for o, err := range b.List(t.Context(), "p/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.Key)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged List = %v, want %v", got, want)
	}
}

// TestStatusKinds covers the HTTP statuses fake-gcs-server never sends
// (it checks no permissions): the classification of GCS API errors.
func TestStatusKinds(t *testing.T) {
	for code, want := range map[int]blob.Kind{
		401: blob.KindPermissionDenied,
		403: blob.KindPermissionDenied,
		404: blob.KindNotFound,
		409: blob.KindOther,
		412: blob.KindOther,
		429: blob.KindTransient,
		500: blob.KindTransient,
		503: blob.KindTransient,
	} {
		err := fmt.Errorf("op: %w", &googleapi.Error{Code: code, Message: "m"})
		if got := kindOf(err); got != want {
			t.Errorf("status %d: kind %v, want %v", code, got, want)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	for name, o := range map[string]Options{
		"no bucket":         {Endpoint: "http://127.0.0.1:1"},
		"odd chunk":         {Bucket: "b", Endpoint: "http://127.0.0.1:1", ChunkSize: ChunkQuantum + 1},
		"negative chunk":    {Bucket: "b", Endpoint: "http://127.0.0.1:1", ChunkSize: -ChunkQuantum},
		"endpoint not URL":  {Bucket: "b", Endpoint: "127.0.0.1:1"},
		"negative attempts": {Bucket: "b", Endpoint: "http://127.0.0.1:1", MaxAttempts: -1},
	} {
		if _, err := Open(context.Background(), o); blob.KindOf(err) != blob.KindInvalid {
			t.Errorf("%s: Open error %v, want kind invalid", name, err)
		}
	}
	if _, err := Open(context.Background(), Options{Bucket: "b", Endpoint: "http://127.0.0.1:1", CredentialsJSON: `{"type":"authorized_user"}`}); err == nil {
		t.Error("Open accepted credentials that are not a service account")
	}
}

// BenchmarkWrite streams a 64 MiB object to the in-process fake-gcs-server
// with 16 MiB chunks; the server's own memory use shows in peak-heap-MiB.
func BenchmarkWrite(b *testing.B) {
	srv := testenv.FakeGCS(b)
	opts := serverOptions(srv, newBucketName(b, srv))
	opts.ChunkSize = DefaultChunkSize
	blobtest.BenchmarkWrite(b, open(b, opts), blobtest.BenchSize)
}

// BenchmarkRead reads a 64 MiB object back from fake-gcs-server.
func BenchmarkRead(b *testing.B) {
	srv := testenv.FakeGCS(b)
	blobtest.BenchmarkRead(b, open(b, serverOptions(srv, newBucketName(b, srv))), blobtest.BenchSize)
}
