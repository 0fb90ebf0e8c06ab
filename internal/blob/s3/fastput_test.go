package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/faultproxy"
	"github.com/snapex/snapex/internal/testenv"
)

// TestFastPutWritesWhatPutObjectWould: small objects, keys with every
// kind of character an export's database and collection names bring,
// are written by the signed-PUT fast path (versitygw checks the
// signature and the body's SHA-256) with their bytes and content type,
// while an object over fastPutMax goes through the SDK.
func TestFastPutWritesWhatPutObjectWould(t *testing.T) {
	srv := testenv.VersityGW(t)
	opts := serverOptions(srv, newBucketName(t, srv))
	d, err := newDriver(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if d.fast == nil {
		t.Fatal("no fast path for a path-style endpoint with static keys")
	}
	b := blob.New(d)
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	keys := []string{
		"exported_snapshots/org/proj/c/snap/1/db/coll/rs0.0.json.gz",
		"p/db-é 名前/coll with spaces+plus/metadata.json",
		"p/db/c%41~!$&'()*,;=:@[]/x.json",
		"p/db/a..b/.complete",
	}
	for i, key := range keys {
		data := bytes.Repeat([]byte{byte('a' + i)}, 100+i*1000)
		if err := b.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: "application/gzip"}); err != nil {
			t.Fatalf("WriteAll %q: %v", key, err)
		}
		out, err := srv.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: &opts.Bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %q: %v", key, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) || aws.ToString(out.ContentType) != "application/gzip" {
			t.Fatalf("%q: got %d bytes of %s, want %d of application/gzip", key, len(got), aws.ToString(out.ContentType), len(data))
		}
	}
	if n := d.fast.sent.Load(); n != int64(len(keys)) {
		t.Fatalf("fast path wrote %d of %d small objects (off: %v)", n, len(keys), d.fast.off.Load())
	}
	big := bytes.Repeat([]byte("z"), fastPutMax+1)
	if err := b.WriteAll(ctx, "p/big", big, nil); err != nil {
		t.Fatal(err)
	}
	if n := d.fast.sent.Load(); n != int64(len(keys)) {
		t.Fatalf("an object over fastPutMax went through the fast path (%d)", n)
	}
}

// TestFastPutFallsBack: a failed fast PUT leaves the object to PutObject
// (which writes it); a 5xx keeps the fast path for the next object, a
// 403 turns it off for the bucket.
func TestFastPutFallsBack(t *testing.T) {
	srv := testenv.VersityGW(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.New(target)
	t.Cleanup(proxy.Close)
	opts := serverOptions(srv, newBucketName(t, srv))
	opts.Endpoint = proxy.URL.String()
	d, err := newDriver(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b := blob.New(d)
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	isPut := func(r *http.Request) bool { return r.Method == http.MethodPut }
	fastOnly := func(r *http.Request) bool { return isPut(r) && r.Header.Get("Amz-Sdk-Invocation-Id") == "" }

	write := func(key string, f faultproxy.Fault) {
		t.Helper()
		proxy.SetRule(faultproxy.Nth(fastOnly, f, 1))
		data := []byte("payload of " + key)
		if err := b.WriteAll(ctx, key, data, nil); err != nil {
			t.Fatalf("WriteAll %s with the fast PUT failing (%s): %v", key, f, err)
		}
		out, err := srv.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: &opts.Bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%s holds %q", key, got)
		}
	}
	write("a/after-500", faultproxy.InternalError)
	if d.fast.off.Load() || d.fast.sent.Load() != 0 {
		t.Fatalf("after a 500: off %v, sent %d; want on, 0", d.fast.off.Load(), d.fast.sent.Load())
	}
	write("a/after-reset", faultproxy.Reset)
	write("a/plain", faultproxy.Fault{})
	if d.fast.sent.Load() != 1 {
		t.Fatalf("fast path sent %d objects, want 1 (the one without a fault)", d.fast.sent.Load())
	}
	write("a/after-403", faultproxy.AccessDenied)
	if !d.fast.off.Load() {
		t.Fatal("a 403 to the fast PUT did not turn the fast path off")
	}
	before := len(proxy.Log())
	write("a/later", faultproxy.Fault{})
	for _, e := range proxy.Log()[before:] {
		if e.Method == http.MethodPut && e.Header.Get("Amz-Sdk-Invocation-Id") == "" {
			t.Fatalf("a PUT without the SDK after the fast path was turned off: %s", e.Path)
		}
	}
}

// TestFastPutEndpoints: the fast path takes the bucket URL the SDK would
// use, and stays off where it would not sign or address requests as the
// SDK does.
func TestFastPutEndpoints(t *testing.T) {
	ctx := context.Background()
	base := Options{Bucket: "my-bucket", Region: "eu-west-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	for _, c := range []struct {
		name string
		edit func(*Options)
		want string // "" for no fast path
	}{
		{"aws virtual-hosted", func(*Options) {}, "https://my-bucket.s3.eu-west-1.amazonaws.com"},
		{"aws path-style", func(o *Options) { o.UsePathStyle = true }, "https://s3.eu-west-1.amazonaws.com/my-bucket"},
		{"custom endpoint", func(o *Options) { o.Endpoint = "http://127.0.0.1:7070"; o.UsePathStyle = true }, "http://127.0.0.1:7070/my-bucket"},
		{"dotted bucket on aws", func(o *Options) { o.Bucket = "my.bucket" }, "https://s3.eu-west-1.amazonaws.com/my.bucket"},
	} {
		o := base
		c.edit(&o)
		d, err := newDriver(ctx, o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := ""
		if d.fast != nil {
			got = d.fast.base
		}
		if got != c.want {
			t.Errorf("%s: fast path base %q, want %q", c.name, got, c.want)
		}
		if d.fast != nil && d.fast.region != o.Region {
			t.Errorf("%s: signing region %q, want %q", c.name, d.fast.region, o.Region)
		}
	}
	t.Setenv("AWS_USE_FIPS_ENDPOINT", "true")
	d, err := newDriver(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if d.fast != nil {
		t.Errorf("with FIPS endpoints the fast path is on, writing to %s", d.fast.base)
	}
}

// BenchmarkSmallPut writes 3 KiB objects, 16 at a time, with the fast
// path and with PutObject only; cpu-µs/op is the client's CPU per object
// (the store, versitygw, runs in another process).
func BenchmarkSmallPut(b *testing.B) {
	srv := testenv.VersityGW(b)
	data := bytes.Repeat([]byte("snapex! "), 384)
	for _, fast := range []bool{true, false} {
		name := map[bool]string{true: "fast", false: "sdk"}[fast]
		b.Run(name, func(b *testing.B) {
			d, err := newDriver(context.Background(), serverOptions(srv, newBucketName(b, srv)))
			if err != nil {
				b.Fatal(err)
			}
			if !fast {
				d.fast = nil
			}
			bk := blob.New(d)
			defer bk.Close()
			var seq atomic.Int64
			b.SetParallelism(8) // 16 goroutines on 2 cores
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bk.WriteAll(context.Background(), fmt.Sprintf("db/c%d/rs0.0.json.gz", seq.Add(1)), data, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is this process's user + system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
