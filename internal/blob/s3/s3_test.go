package s3

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
	"github.com/snapex/snapex/internal/testenv"
)

var bucketSeq atomic.Int64

// newBucketName creates a fresh bucket on srv and returns its name.
func newBucketName(t testing.TB, srv testenv.S3Server) string {
	t.Helper()
	name := fmt.Sprintf("snapex-test-%d", bucketSeq.Add(1))
	srv.CreateBucket(t, name)
	return name
}

func serverOptions(srv testenv.S3Server, bucket string) Options {
	return Options{
		Bucket:          bucket,
		Region:          srv.Region,
		Endpoint:        srv.Endpoint,
		UsePathStyle:    true,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		PartSize:        MinPartSize,
	}
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

func TestConformance(t *testing.T) {
	srv := testenv.VersityGW(t)
	names := map[blob.Bucket]string{}
	blobtest.Run(t, func(t *testing.T) blob.Bucket {
		name := newBucketName(t, srv)
		b := open(t, serverOptions(srv, name))
		names[b] = name
		return b
	}, blobtest.Options{
		PartSize: MinPartSize,
		Denied: func(t *testing.T) blob.Bucket {
			opts := serverOptions(srv, newBucketName(t, srv))
			opts.SecretAccessKey = "wrong-" + opts.SecretAccessKey
			return open(t, opts)
		},
		AfterAbort: func(t *testing.T, b blob.Bucket, key string) {
			out, err := srv.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(names[b])})
			if err != nil {
				t.Fatalf("ListMultipartUploads: %v", err)
			}
			for _, u := range out.Uploads {
				t.Errorf("multipart upload of %q (id %s) left after abort", aws.ToString(u.Key), aws.ToString(u.UploadId))
			}
		},
	})
}

// TestMultipartOnlyWhenNeeded checks through the ETags which objects went
// up as multipart uploads, and with how many parts.
func TestMultipartOnlyWhenNeeded(t *testing.T) {
	srv := testenv.VersityGW(t)
	name := newBucketName(t, srv)
	b := open(t, serverOptions(srv, name))
	cases := []struct {
		size  int
		parts int // 0: single PutObject
	}{
		{0, 0},
		{MinPartSize, 0},
		{MinPartSize + 1, 2},
		{3*MinPartSize + 7, 4},
	}
	for _, c := range cases {
		key := fmt.Sprintf("obj-%d", c.size)
		w, err := b.NewWriter(t.Context(), key, &blob.WriterOptions{ContentType: "application/gzip"})
		if err != nil {
			t.Fatal(err)
		}
		data := blobtest.Data(uint64(c.size), c.size)
		for rest := data; len(rest) > 0; {
			k := min(1<<20, len(rest))
			if _, err := w.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatalf("Close %s: %v", key, err)
		}
		head, err := srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &name, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		etag := strings.Trim(aws.ToString(head.ETag), `"`)
		_, suffix, multi := strings.Cut(etag, "-")
		switch {
		case c.parts == 0 && multi:
			t.Errorf("%s: ETag %s says multipart, want a single PutObject", key, etag)
		case c.parts > 0 && suffix != fmt.Sprint(c.parts):
			t.Errorf("%s: ETag %s, want a %d-part upload", key, etag, c.parts)
		}
		if got := aws.ToString(head.ContentType); got != "application/gzip" {
			t.Errorf("%s: Content-Type %q", key, got)
		}
		if aws.ToInt64(head.ContentLength) != int64(c.size) {
			t.Errorf("%s: size %d, want %d", key, aws.ToInt64(head.ContentLength), c.size)
		}
	}
}

// TestPartRetries puts a proxy in front of versitygw that fails the first
// attempt of every part upload, of CompleteMultipartUpload and of
// PutObject with 503: writes must still succeed intact.
func TestPartRetries(t *testing.T) {
	srv := testenv.VersityGW(t)
	name := newBucketName(t, srv)
	proxy := blobtest.NewFaultProxy(t, srv.Endpoint, func(p *blobtest.FaultProxy, r *http.Request) bool {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodPut && q.Has("partNumber"):
			return p.FirstTime("part " + q.Get("partNumber") + " " + q.Get("uploadId"))
		case r.Method == http.MethodPost && q.Has("uploadId"):
			return p.FirstTime("complete " + q.Get("uploadId"))
		case r.Method == http.MethodPut:
			return p.FirstTime("put " + r.URL.Path)
		}
		return false
	})
	opts := serverOptions(srv, name)
	opts.Endpoint = proxy.URL
	b := open(t, opts)
	blobtest.WriteThroughFaults(t, b, open(t, serverOptions(srv, name)), 3*MinPartSize+11)
	// 4 parts + complete + small put.
	if got := proxy.Injected.Load(); got != 6 {
		t.Errorf("injected %d faults, want 6", got)
	}
}

// TestTransientKind: a store that keeps answering 503 gives
// KindTransient once the retries are spent, and a failed part aborts the
// multipart upload.
func TestTransientKind(t *testing.T) {
	srv := testenv.VersityGW(t)
	name := newBucketName(t, srv)
	proxy := blobtest.NewFaultProxy(t, srv.Endpoint, func(_ *blobtest.FaultProxy, r *http.Request) bool {
		return r.Method == http.MethodPut
	})
	opts := serverOptions(srv, name)
	opts.Endpoint = proxy.URL
	opts.MaxAttempts = 2
	b := open(t, opts)
	err := b.WriteAll(t.Context(), "k", []byte("x"), nil)
	if blob.KindOf(err) != blob.KindTransient {
		t.Fatalf("WriteAll through a failing store: kind %v, want transient (err %v)", blob.KindOf(err), err)
	}
	if !strings.Contains(err.Error(), "s3://"+name+"/k") || !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q does not name the object and the status", err)
	}
	if got := proxy.Injected.Load(); got != 2 {
		t.Errorf("%d attempts reached the store, want MaxAttempts = 2", got)
	}
	w, err := b.NewWriter(t.Context(), "big", nil)
	if err != nil {
		t.Fatal(err)
	}
	data := blobtest.Data(2, 2*MinPartSize+1)
	_, werr := w.Write(data)
	cerr := w.Close()
	if werr == nil && cerr == nil {
		t.Fatal("multipart write through a failing store succeeded")
	}
	if k := blob.KindOf(cerr); k != blob.KindTransient {
		t.Fatalf("Close: kind %v, want transient (err %v)", k, cerr)
	}
	out, err := srv.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &name})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left after a failed write", len(out.Uploads))
	}
	if proxy.Injected.Load() < 4 {
		t.Fatalf("only %d faults injected; the retries did not happen", proxy.Injected.Load())
	}
}

func TestMissingBucket(t *testing.T) {
	srv := testenv.VersityGW(t)
	b := open(t, serverOptions(srv, "no-such-bucket"))
	err := b.WriteAll(t.Context(), "exported_snapshots/.permissioncheck", nil, nil)
	if blob.KindOf(err) != blob.KindNotFound {
		t.Fatalf("write to a missing bucket: kind %v, want not found (err %v)", blob.KindOf(err), err)
	}
	if !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("error %q does not say what S3 said", err)
	}
}

func TestListPaging(t *testing.T) {
	srv := testenv.VersityGW(t)
	d, err := newDriver(context.Background(), serverOptions(srv, newBucketName(t, srv)))
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

func TestServerSideEncryptionRequest(t *testing.T) {
	srv := testenv.VersityGW(t)
	opts := serverOptions(srv, newBucketName(t, srv))
	opts.SSE = SSES3
	b := open(t, opts)
	data := blobtest.Data(3, MinPartSize+1)
	if err := b.WriteAll(t.Context(), "enc", data, nil); err != nil {
		t.Fatalf("WriteAll with SSE: %v", err)
	}
	w, err := b.NewWriter(t.Context(), "enc-multi", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("multipart write with SSE: %v", err)
	}
	got, err := b.ReadAll(t.Context(), "enc-multi")
	if err != nil || len(got) != len(data) {
		t.Fatalf("ReadAll: %d bytes, %v", len(got), err)
	}
}

func TestOptionsValidation(t *testing.T) {
	good := Options{Bucket: "b", Region: "us-east-1", AccessKeyID: "AK", SecretAccessKey: "SK"}
	bad := map[string]func(o *Options){
		"no bucket":          func(o *Options) { o.Bucket = "" },
		"endpoint not a URL": func(o *Options) { o.Endpoint = "127.0.0.1:9000" },
		"key without secret": func(o *Options) { o.SecretAccessKey = "" },
		"token without keys": func(o *Options) { o.AccessKeyID, o.SecretAccessKey, o.SessionToken = "", "", "tok" },
		"unknown SSE":        func(o *Options) { o.SSE = "aws:kms:dsse" },
		"KMS key without kms": func(o *Options) {
			o.SSE = SSES3
			o.KMSKeyID = "arn:aws:kms:us-east-1:1:key/x"
		},
		"part too small":    func(o *Options) { o.PartSize = MinPartSize - 1 },
		"part too large":    func(o *Options) { o.PartSize = MaxPartSize + 1 },
		"negative attempts": func(o *Options) { o.MaxAttempts = -1 },
	}
	for name, mutate := range bad {
		o := good
		mutate(&o)
		_, err := Open(context.Background(), o)
		if blob.KindOf(err) != blob.KindInvalid {
			t.Errorf("%s: Open error %v, want kind invalid", name, err)
		}
	}
	for _, o := range []Options{
		good,
		{Bucket: "b", Endpoint: "http://127.0.0.1:1", AccessKeyID: "AK", SecretAccessKey: "SK"}, // region defaults
		{Bucket: "b", Region: "eu-west-1", SSE: SSEKMS, KMSKeyID: "alias/x", AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "T"},
	} {
		if _, err := Open(context.Background(), o); err != nil {
			t.Errorf("Open(%+v): %v", o, err)
		}
	}
}

// BenchmarkWrite streams a 64 MiB object to versitygw with 16 MiB parts.
func BenchmarkWrite(b *testing.B) {
	srv := testenv.VersityGW(b)
	opts := serverOptions(srv, newBucketName(b, srv))
	opts.PartSize = DefaultPartSize
	blobtest.BenchmarkWrite(b, open(b, opts), blobtest.BenchSize)
}

// BenchmarkRead reads a 64 MiB object back from versitygw.
func BenchmarkRead(b *testing.B) {
	srv := testenv.VersityGW(b)
	blobtest.BenchmarkRead(b, open(b, serverOptions(srv, newBucketName(b, srv))), blobtest.BenchSize)
}

// TestPartScheduleCoversMaxObject: with any allowed part size, the growing
// schedule reaches S3's 5 TiB object limit within 10,000 parts.
func TestPartScheduleCoversMaxObject(t *testing.T) {
	for _, size := range []int64{MinPartSize, DefaultPartSize, 100 << 20, MaxPartSize} {
		d, err := newDriver(context.Background(), Options{Bucket: "b", Region: "us-east-1", AccessKeyID: "A", SecretAccessKey: "S", PartSize: size})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.parts.MaxObjectSize(); got < 5<<40 {
			t.Errorf("PartSize %d: largest object %d < 5 TiB", size, got)
		}
		if d.parts.SizeOf(MaxParts) > MaxPartSize || d.parts.SizeOf(1) != size {
			t.Errorf("PartSize %d: parts from %d to %d", size, d.parts.SizeOf(1), d.parts.SizeOf(MaxParts))
		}
	}
}
