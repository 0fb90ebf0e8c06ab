package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	fp "github.com/snapex/snapex/internal/faultproxy"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

func start(t *testing.T, target string) *fp.Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := fp.New(u)
	t.Cleanup(p.Close)
	return p
}

// TestS3ClientReadsTheFaults sends PutObject through the proxy to
// versitygw with the SDK's retries off: each injected answer reaches the
// client as S3 would give it, and forwarded requests (signed for the
// proxy's address) succeed.
func TestS3ClientReadsTheFaults(t *testing.T) {
	srv := testenv.VersityGW(t)
	srv.CreateBucket(t, "bkt")
	p := start(t, srv.Endpoint)
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(p.URL.String()), Region: srv.Region, UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
	})
	ctx := context.Background()
	put := func(key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader("data of " + key)})
		return err
	}
	for _, f := range []fp.Fault{fp.SlowDown, fp.AccessDenied, fp.InternalError} {
		p.SetRule(fp.Nth(fp.S3PutObject, f, 1))
		err := put("k")
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != f.Code {
			t.Fatalf("%s: client got %v, want S3 error code %s", f, err, f.Code)
		}
	}
	p.SetRule(fp.Nth(fp.S3PutObject, fp.Reset, 1))
	if err := put("k"); err == nil {
		t.Fatal("reset: PutObject succeeded")
	}
	// A truncated answer fails the call although the store did the work.
	p.SetRule(fp.Nth(fp.S3PutObject, fp.Truncate, 1))
	if err := put("truncated"); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("truncate: PutObject returned %v, want unexpected EOF", err)
	}
	p.SetRule(nil)
	if err := put("ok"); err != nil {
		t.Fatalf("forwarded PutObject: %v", err)
	}
	for _, key := range []string{"truncated", "ok"} {
		out, err := srv.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s is not in the store: %v", key, err)
		}
		body, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(body) != "data of "+key {
			t.Fatalf("%s holds %q", key, body)
		}
	}
	if n := p.Count(); n != 5 {
		t.Fatalf("%d injections recorded, want 5", n)
	}
	if n := p.Count(fp.KindError); n != 3 {
		t.Fatalf("%d error injections recorded, want 3", n)
	}
	if n := p.Matching(fp.S3PutObject); n != 6 {
		t.Fatalf("%d PutObject requests recorded, want 6: %+v", n, p.Log())
	}
}

// TestAzureClientReadsTheFaults checks the Azure dialect against Azurite.
func TestAzureClientReadsTheFaults(t *testing.T) {
	srv := testenv.Azurite(t)
	srv.CreateContainer(t, "cont")
	p := start(t, srv.ServiceURL)
	cred, err := azblob.NewSharedKeyCredential(srv.AccountName, srv.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(p.URL.String()+"/"+srv.AccountName+"/", cred,
		&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for code, f := range map[string]fp.Fault{"ServerBusy": fp.ServerBusy, "AuthorizationPermissionMismatch": fp.AccessDenied} {
		p.SetRule(fp.Nth(fp.AzurePutBlob, f, 1))
		_, err := c.UploadBuffer(ctx, "cont", "k", []byte("data"), nil)
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.ErrorCode != code || re.StatusCode != f.Status {
			t.Fatalf("%s: client got %v, want %d %s", f, err, f.Status, code)
		}
	}
	p.SetRule(nil)
	if _, err := c.UploadBuffer(ctx, "cont", "k", []byte("data"), nil); err != nil {
		t.Fatalf("forwarded upload: %v", err)
	}
}

// TestGCSClientReadsTheFaults checks the GCS dialect against
// fake-gcs-server, and that resumable-upload sessions, whose Location
// names the server, continue through the proxy.
func TestGCSClientReadsTheFaults(t *testing.T) {
	srv := testenv.FakeGCS(t)
	srv.CreateBucket(t, "bkt")
	p := start(t, srv.Endpoint)
	ctx := context.Background()
	c, err := storage.NewClient(ctx, option.WithEndpoint(p.URL.String()+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write := func(key string, data []byte, chunk int) error {
		w := c.Bucket("bkt").Object(key).Retryer(storage.WithPolicy(storage.RetryNever)).NewWriter(ctx)
		w.ChunkSize = chunk
		if _, err := w.Write(data); err != nil {
			return err
		}
		return w.Close()
	}
	p.SetRule(fp.Nth(fp.GCSUpload, fp.TooManyRequests, 1))
	err = write("k", []byte("data"), 0)
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != 429 || len(gerr.Errors) != 1 || gerr.Errors[0].Reason != "rateLimitExceeded" {
		t.Fatalf("429: client got %v", err)
	}
	p.SetRule(nil)
	p.Clear()
	big := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB: three 256 KiB chunks
	if err := write("big", big, 256<<10); err != nil {
		t.Fatalf("resumable upload through the proxy: %v", err)
	}
	if n := p.Matching(fp.GCSChunk); n < 3 {
		t.Fatalf("%d resumable chunks went through the proxy, want 3: %+v", n, p.Log())
	}
	direct, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	r, err := direct.Bucket("bkt").Object("big").NewReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, big) {
		t.Fatalf("stored object has %d bytes, want %d", len(got), len(big))
	}
}

// TestStallAndTruncateOnTheWire checks the connection-level faults with
// plain HTTP GETs of fake-gcs-server's bucket list.
func TestStallAndTruncateOnTheWire(t *testing.T) {
	srv := testenv.FakeGCS(t)
	srv.CreateBucket(t, "bkt")
	p := start(t, srv.Endpoint)
	list := p.URL.String() + "/storage/v1/b?project=x"
	get := func(c *http.Client) ([]byte, error) {
		resp, err := c.Get(list)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	every := func(*http.Request) bool { return true }

	// An impatient client abandons the stall, and the proxy notices.
	p.SetRule(fp.Nth(every, fp.Stall(time.Minute), 1))
	if _, err := get(&http.Client{Timeout: 200 * time.Millisecond}); err == nil {
		t.Fatal("stall: the GET succeeded")
	}
	waitGaveUp := time.Now().Add(5 * time.Second)
	for !p.Injections(fp.KindStall)[0].ClientGaveUp {
		if time.Now().After(waitGaveUp) {
			t.Fatal("the proxy did not see the client give up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if held := p.Injections(fp.KindStall)[0].Held; held > 5*time.Second {
		t.Fatalf("stall held %s after the client left", held)
	}

	// A patient client sees the connection dropped when the stall ends.
	p.Clear()
	p.SetRule(fp.Nth(every, fp.Stall(100*time.Millisecond), 1))
	if _, err := get(&http.Client{Timeout: 10 * time.Second}); err == nil {
		t.Fatal("stall: the GET succeeded")
	}
	if e := p.Injections()[0]; e.ClientGaveUp || e.Held < 100*time.Millisecond {
		t.Fatalf("stall entry %+v", e)
	}

	// A truncated answer keeps the store's status but loses the body's end.
	p.SetRule(fp.Nth(every, fp.Truncate, 1))
	resp, err := http.Get(list)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncate: status %d, read error %v", resp.StatusCode, err)
	}
	p.SetRule(nil)
	body, err := get(http.DefaultClient)
	if err != nil || !strings.Contains(string(body), `"bkt"`) {
		t.Fatalf("forwarded GET: %v %s", err, body)
	}
}

func req(method, rawURL string) *http.Request {
	r, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func TestRules(t *testing.T) {
	part := req("PUT", "http://s/b/k?partNumber=2&uploadId=u&x-id=UploadPart")
	put := req("PUT", "http://s/b/k?x-id=PutObject")
	complete := req("POST", "http://s/b/k?uploadId=u")
	create := req("POST", "http://s/b/k?uploads=")
	block := req("PUT", "http://s/acct/c/k?comp=block&blockid=x")
	blockList := req("PUT", "http://s/acct/c/k?comp=blocklist")
	container := req("PUT", "http://s/acct/c?restype=container")
	chunk := req("PUT", "http://s/upload/storage/v1/b/x/o?uploadType=resumable&upload_id=1")
	cases := []struct {
		name  string
		m     fp.Match
		yes   []*http.Request
		never []*http.Request
	}{
		{"S3UploadPart", fp.S3UploadPart, []*http.Request{part}, []*http.Request{put, complete, create}},
		{"S3PutObject", fp.S3PutObject, []*http.Request{put}, []*http.Request{part, complete, create, req("PUT", "http://s/b")}},
		{"S3CompleteMultipart", fp.S3CompleteMultipart, []*http.Request{complete}, []*http.Request{create, part}},
		{"S3CreateMultipart", fp.S3CreateMultipart, []*http.Request{create}, []*http.Request{complete}},
		{"AzurePutBlock", fp.AzurePutBlock, []*http.Request{block}, []*http.Request{blockList}},
		{"AzurePutBlockList", fp.AzurePutBlockList, []*http.Request{blockList}, []*http.Request{block}},
		{"AzurePutBlob", fp.AzurePutBlob, []*http.Request{req("PUT", "http://s/acct/c/k")}, []*http.Request{block, blockList, container}},
		{"GCSChunk", fp.GCSChunk, []*http.Request{chunk}, []*http.Request{req("POST", "http://s/upload/storage/v1/b/x/o?uploadType=resumable")}},
		{"PathContains", fp.PathContains("k.json"), []*http.Request{req("PUT", "http://s/b/k.json"), req("POST", "http://s/upload/storage/v1/b/x/o?name=k.json")}, []*http.Request{put}},
	}
	for _, c := range cases {
		for _, r := range c.yes {
			if !c.m(r) {
				t.Errorf("%s does not match %s %s", c.name, r.Method, r.URL)
			}
		}
		for _, r := range c.never {
			if c.m(r) {
				t.Errorf("%s matches %s %s", c.name, r.Method, r.URL)
			}
		}
	}

	apply := func(rule fp.Rule, rs ...*http.Request) string {
		var b strings.Builder
		for _, r := range rs {
			if rule(r).IsZero() {
				b.WriteByte('.')
			} else {
				b.WriteByte('X')
			}
		}
		return b.String()
	}
	seq := []*http.Request{part, put, part, part, put, part}
	if got := apply(fp.Nth(fp.S3UploadPart, fp.Reset, 2, 4), seq...); got != "..X..X" {
		t.Errorf("Nth: %s", got)
	}
	if got := apply(fp.From(fp.S3UploadPart, fp.Reset, 2), seq...); got != "..XX.X" {
		t.Errorf("From: %s", got)
	}
	if got := apply(fp.AtMost(2, fp.Always(fp.S3UploadPart, fp.Reset)), seq...); got != "X.X..." {
		t.Errorf("AtMost(Always): %s", got)
	}
	if got := apply(fp.First(fp.Nth(fp.S3PutObject, fp.Reset, 2), fp.Nth(fp.S3UploadPart, fp.Reset, 1)), seq...); got != "X...X." {
		t.Errorf("First: %s", got)
	}
	every := func(*http.Request) bool { return true }
	many := make([]*http.Request, 2000)
	for i := range many {
		many[i] = put
	}
	a, b := apply(fp.Chance(every, fp.Reset, 0.1, 7), many...), apply(fp.Chance(every, fp.Reset, 0.1, 7), many...)
	if a != b {
		t.Error("Chance with one seed gave two sequences")
	}
	if n := strings.Count(a, "X"); n < 140 || n > 260 {
		t.Errorf("Chance(0.1) injected %d of 2000", n)
	}
	if c := apply(fp.Chance(every, fp.Reset, 0.1, 8), many...); c == a {
		t.Error("Chance with seeds 7 and 8 gave the same sequence")
	}
}
