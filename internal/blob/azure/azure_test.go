package azure

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
	"github.com/snapex/snapex/internal/testenv"
)

// testBlockSize keeps multi-block objects small in tests.
const testBlockSize = 1 << 20

var containerSeq atomic.Int64

func newContainer(t testing.TB, srv testenv.AzuriteServer) string {
	t.Helper()
	name := fmt.Sprintf("snapex-test-%d", containerSeq.Add(1))
	srv.CreateContainer(t, name)
	return name
}

func serverOptions(srv testenv.AzuriteServer, name string) Options {
	return Options{
		ServiceURL:  srv.ServiceURL + "/" + name,
		AccountName: srv.AccountName,
		AccountKey:  srv.AccountKey,
		BlockSize:   testBlockSize,
	}
}

func open(t testing.TB, opts Options) blob.Bucket {
	t.Helper()
	b, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// rawClient returns an azblob container client with the shared key.
func rawClient(t testing.TB, srv testenv.AzuriteServer, name string) *container.Client {
	t.Helper()
	cred, err := container.NewSharedKeyCredential(srv.AccountName, srv.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(srv.ServiceURL+"/"+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAzure runs everything against one Azurite (it takes seconds to start).
func TestAzure(t *testing.T) {
	srv := testenv.Azurite(t)
	t.Run("Conformance", func(t *testing.T) { testConformance(t, srv) })
	t.Run("BlocksOnlyWhenNeeded", func(t *testing.T) { testBlocksOnlyWhenNeeded(t, srv) })
	t.Run("SAS", func(t *testing.T) { testSAS(t, srv) })
	t.Run("BlockRetries", func(t *testing.T) { testBlockRetries(t, srv) })
	t.Run("TransientKind", func(t *testing.T) { testTransientKind(t, srv) })
	t.Run("MissingContainer", func(t *testing.T) { testMissingContainer(t, srv) })
	t.Run("ListPaging", func(t *testing.T) { testListPaging(t, srv) })
	t.Run("AccountFromURL", func(t *testing.T) {
		name := newContainer(t, srv)
		b := open(t, Options{ServiceURL: srv.ServiceURL, Container: name, AccountKey: srv.AccountKey})
		if err := b.WriteAll(t.Context(), "k", []byte("v"), nil); err != nil {
			t.Fatalf("shared key with the account taken from the URL: %v", err)
		}
	})
}

func testConformance(t *testing.T, srv testenv.AzuriteServer) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket {
		return open(t, serverOptions(srv, newContainer(t, srv)))
	}, blobtest.Options{
		PartSize: testBlockSize,
		Denied: func(t *testing.T) blob.Bucket {
			opts := serverOptions(srv, newContainer(t, srv))
			// A well-formed key that is not the account's.
			opts.AccountKey = "d3JvbmcgYWNjb3VudCBrZXkgZm9yIHNuYXBleCB0ZXN0cyAwMTIzNDU2Nzg5MDEyMzQ1Njc4OQ=="
			return open(t, opts)
		},
	})
}

// testBlocksOnlyWhenNeeded checks through the committed block lists which
// blobs were staged in blocks, and how many.
func testBlocksOnlyWhenNeeded(t *testing.T, srv testenv.AzuriteServer) {
	name := newContainer(t, srv)
	b := open(t, serverOptions(srv, name))
	raw := rawClient(t, srv, name)
	cases := []struct {
		size   int
		blocks int // 0: single Put Blob
	}{
		{0, 0},
		{testBlockSize, 0},
		{testBlockSize + 1, 2},
		{3*testBlockSize + 7, 4},
	}
	for _, c := range cases {
		key := fmt.Sprintf("obj-%d", c.size)
		w, err := b.NewWriter(t.Context(), key, &blob.WriterOptions{ContentType: "application/gzip"})
		if err != nil {
			t.Fatal(err)
		}
		data := blobtest.Data(uint64(c.size), c.size)
		for rest := data; len(rest) > 0; {
			k := min(256<<10, len(rest))
			if _, err := w.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatalf("Close %s: %v", key, err)
		}
		bl, err := raw.NewBlockBlobClient(key).GetBlockList(t.Context(), blockblob.BlockListTypeAll, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(bl.CommittedBlocks); got != c.blocks {
			t.Errorf("%s: %d committed blocks, want %d", key, got, c.blocks)
		}
		if len(bl.UncommittedBlocks) != 0 {
			t.Errorf("%s: %d uncommitted blocks left", key, len(bl.UncommittedBlocks))
		}
		props, err := raw.NewBlobClient(key).GetProperties(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := deref(props.ContentType); got != "application/gzip" {
			t.Errorf("%s: Content-Type %q", key, got)
		}
		if got := deref(props.ContentLength); got != int64(c.size) {
			t.Errorf("%s: size %d, want %d", key, got, c.size)
		}
	}
}

// testSAS uses SAS tokens signed with the account key: a read+list token
// reads but cannot write, a full token does both.
func testSAS(t *testing.T, srv testenv.AzuriteServer) {
	name := newContainer(t, srv)
	full := open(t, serverOptions(srv, name))
	if err := full.WriteAll(t.Context(), "seed", []byte("seed"), nil); err != nil {
		t.Fatal(err)
	}
	cred, err := container.NewSharedKeyCredential(srv.AccountName, srv.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	token := func(p sas.ContainerPermissions) string {
		q, err := sas.BlobSignatureValues{
			Protocol:      sas.ProtocolHTTPSandHTTP,
			ExpiryTime:    time.Now().Add(time.Hour),
			Permissions:   p.String(),
			ContainerName: name,
		}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		return q.Encode()
	}
	ro := open(t, Options{ServiceURL: srv.ServiceURL, Container: name, SASToken: "?" + token(sas.ContainerPermissions{Read: true, List: true})})
	got, err := ro.ReadAll(t.Context(), "seed")
	if err != nil || string(got) != "seed" {
		t.Fatalf("read with a read SAS: %q, %v", got, err)
	}
	err = ro.WriteAll(t.Context(), "exported_snapshots/.permissioncheck", nil, nil)
	if blob.KindOf(err) != blob.KindPermissionDenied {
		t.Fatalf("write with a read-only SAS: kind %v, want permission denied (err %v)", blob.KindOf(err), err)
	}
	if !strings.Contains(err.Error(), "AuthorizationPermissionMismatch") {
		t.Errorf("error %q does not carry Azure's error code", err)
	}
	// The SAS may also come as the ServiceURL's query.
	rw := open(t, Options{
		ServiceURL: srv.ServiceURL + "/" + name + "?" + token(sas.ContainerPermissions{Read: true, Write: true, Create: true, List: true, Delete: true}),
		BlockSize:  testBlockSize,
	})
	data := blobtest.Data(5, 2*testBlockSize+3)
	w, err := rw.NewWriter(t.Context(), "by-sas", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("multi-block write with a SAS: %v", err)
	}
	if got, err := full.ReadAll(t.Context(), "by-sas"); err != nil || string(got) != string(data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	if err := rw.Delete(t.Context(), "by-sas"); err != nil {
		t.Fatalf("Delete with a SAS: %v", err)
	}
}

// testBlockRetries fails the first attempt of every Put Block, Put Block
// List and Put Blob with 503 through a proxy: writes still succeed intact.
func testBlockRetries(t *testing.T, srv testenv.AzuriteServer) {
	name := newContainer(t, srv)
	proxy := blobtest.NewFaultProxy(t, srv.ServiceURL, func(p *blobtest.FaultProxy, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		q := r.URL.Query()
		return p.FirstTime(r.URL.Path + " " + q.Get("comp") + " " + q.Get("blockid"))
	})
	opts := serverOptions(srv, name)
	opts.ServiceURL = proxy.URL + "/" + srv.AccountName + "/" + name
	b := open(t, opts)
	blobtest.WriteThroughFaults(t, b, open(t, serverOptions(srv, name)), 3*testBlockSize+11)
	// 4 blocks + block list + small blob.
	if got := proxy.Injected.Load(); got != 6 {
		t.Errorf("injected %d faults, want 6", got)
	}
}

func testTransientKind(t *testing.T, srv testenv.AzuriteServer) {
	name := newContainer(t, srv)
	proxy := blobtest.NewFaultProxy(t, srv.ServiceURL, func(_ *blobtest.FaultProxy, r *http.Request) bool {
		return r.Method == http.MethodPut
	})
	opts := serverOptions(srv, name)
	opts.ServiceURL = proxy.URL + "/" + srv.AccountName + "/" + name
	opts.MaxAttempts = 2
	b := open(t, opts)
	err := b.WriteAll(t.Context(), "k", []byte("x"), nil)
	if blob.KindOf(err) != blob.KindTransient {
		t.Fatalf("WriteAll through a failing store: kind %v, want transient (err %v)", blob.KindOf(err), err)
	}
	if !strings.Contains(err.Error(), "/"+name+"/k") || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q does not name the object and the status on one line", err)
	}
	if got := proxy.Injected.Load(); got != 2 {
		t.Errorf("%d attempts reached the store, want MaxAttempts = 2", got)
	}
	w, err := b.NewWriter(t.Context(), "big", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, werr := w.Write(blobtest.Data(2, 2*testBlockSize+1))
	cerr := w.Close()
	if werr == nil && cerr == nil {
		t.Fatal("multi-block write through a failing store succeeded")
	}
	if k := blob.KindOf(cerr); k != blob.KindTransient {
		t.Fatalf("Close: kind %v, want transient (err %v)", k, cerr)
	}
	if proxy.Injected.Load() < 4 {
		t.Fatalf("only %d faults injected; the retries did not happen", proxy.Injected.Load())
	}
}

func testMissingContainer(t *testing.T, srv testenv.AzuriteServer) {
	b := open(t, serverOptions(srv, "no-such-container"))
	err := b.WriteAll(t.Context(), "exported_snapshots/.permissioncheck", nil, nil)
	if blob.KindOf(err) != blob.KindNotFound {
		t.Fatalf("write to a missing container: kind %v, want not found (err %v)", blob.KindOf(err), err)
	}
	if !strings.Contains(err.Error(), "ContainerNotFound") {
		t.Errorf("error %q does not say what Azure said", err)
	}
	t.Logf("example error: %v", err)
}

func testListPaging(t *testing.T, srv testenv.AzuriteServer) {
	d, err := newDriver(serverOptions(srv, newContainer(t, srv)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.pageSize = 2
	b := blob.New(d)
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

func TestParseServiceURL(t *testing.T) {
	cases := []struct {
		url, container         string
		base, account, wantCon string
		query                  string
	}{
		{"https://acct.blob.core.windows.net/exports", "", "https://acct.blob.core.windows.net", "acct", "exports", ""},
		{"https://acct.blob.core.windows.net/exports/", "exports", "https://acct.blob.core.windows.net", "acct", "exports", ""},
		{"https://acct.blob.core.windows.net", "exports", "https://acct.blob.core.windows.net", "acct", "exports", ""},
		{"http://127.0.0.1:10000/devstoreaccount1/c1", "", "http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1", "c1", ""},
		{"http://localhost:10000/devstoreaccount1", "c2", "http://localhost:10000/devstoreaccount1", "devstoreaccount1", "c2", ""},
		{"https://acct.blob.core.windows.net/c?sv=1&sig=x", "", "https://acct.blob.core.windows.net", "acct", "c", "sv=1&sig=x"},
	}
	for _, c := range cases {
		ep, err := parseServiceURL(c.url, c.container)
		if err != nil {
			t.Errorf("parseServiceURL(%q, %q): %v", c.url, c.container, err)
			continue
		}
		if ep.base != c.base || ep.account != c.account || ep.container != c.wantCon || ep.query != c.query {
			t.Errorf("parseServiceURL(%q, %q) = %+v", c.url, c.container, ep)
		}
	}
	for _, c := range []struct{ url, container string }{
		{"acct.blob.core.windows.net/c", ""},
		{"ftp://acct.blob.core.windows.net/c", ""},
		{"https://acct.blob.core.windows.net", ""},
		{"https://acct.blob.core.windows.net/a/b", ""},
		{"https://acct.blob.core.windows.net/a", "b"},
		{"http://127.0.0.1:10000/", "c"},
		{"http://127.0.0.1:10000/devstoreaccount1", ""},
	} {
		if _, err := parseServiceURL(c.url, c.container); err == nil {
			t.Errorf("parseServiceURL(%q, %q) accepted", c.url, c.container)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	good := Options{ServiceURL: "https://acct.blob.core.windows.net/c", AccountKey: "a2V5"}
	bad := map[string]func(o *Options){
		"no url":             func(o *Options) { o.ServiceURL = "" },
		"key and sas":        func(o *Options) { o.SASToken = "sv=1&sig=x" },
		"sas twice":          func(o *Options) { o.AccountKey, o.SASToken, o.ServiceURL = "", "sv=1", o.ServiceURL+"?sv=2" },
		"key not base64":     func(o *Options) { o.AccountKey = "not base64!" },
		"block too small":    func(o *Options) { o.BlockSize = MinBlockSize - 1 },
		"block too large":    func(o *Options) { o.BlockSize = MaxBlockSize + 1 },
		"negative attempts":  func(o *Options) { o.MaxAttempts = -1 },
		"container mismatch": func(o *Options) { o.Container = "other" },
	}
	for name, mutate := range bad {
		o := good
		mutate(&o)
		if _, err := Open(o); blob.KindOf(err) != blob.KindInvalid {
			t.Errorf("%s: Open error %v, want kind invalid", name, err)
		}
	}
	// Default credential: builds without a request (none can be made here).
	b, err := Open(Options{ServiceURL: "https://acct.blob.core.windows.net/c", TenantID: "00000000-0000-0000-0000-000000000000"})
	if err != nil {
		t.Fatalf("Open with the default credential: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := newDriver(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "https://acct.blob.core.windows.net/c" || d.parts.PartSize != DefaultBlockSize {
		t.Fatalf("driver = %s, block size %d", d.Name(), d.parts.PartSize)
	}
}

// BenchmarkWrite streams a 64 MiB object to Azurite with 8 MiB blocks.
func BenchmarkWrite(b *testing.B) {
	srv := testenv.Azurite(b)
	opts := serverOptions(srv, newContainer(b, srv))
	opts.BlockSize = DefaultBlockSize
	blobtest.BenchmarkWrite(b, open(b, opts), blobtest.BenchSize)
}

// BenchmarkRead reads a 64 MiB object back from Azurite.
func BenchmarkRead(b *testing.B) {
	srv := testenv.Azurite(b)
	blobtest.BenchmarkRead(b, open(b, serverOptions(srv, newContainer(b, srv))), blobtest.BenchSize)
}

// TestBlockScheduleCoversLargeObjects: with any allowed block size, the
// growing schedule reaches at least 5 TiB (the S3 and GCS object limit)
// within 50,000 blocks.
func TestBlockScheduleCoversLargeObjects(t *testing.T) {
	for _, size := range []int64{MinBlockSize, DefaultBlockSize, MaxBlockSize} {
		d, err := newDriver(Options{ServiceURL: "https://a.blob.core.windows.net/c", AccountKey: "a2V5", BlockSize: size}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.parts.MaxObjectSize(); got < 5<<40 {
			t.Errorf("BlockSize %d: largest object %d < 5 TiB", size, got)
		}
		if d.parts.SizeOf(MaxBlocks) > MaxBlockSize {
			t.Errorf("BlockSize %d: last block %d too large", size, d.parts.SizeOf(MaxBlocks))
		}
	}
}
