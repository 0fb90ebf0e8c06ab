package export_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/azure"
	"github.com/snapex/snapex/internal/blob/gcs"
	"github.com/snapex/snapex/internal/blob/s3"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/exporttest"
	fp "github.com/snapex/snapex/internal/faultproxy"
	"github.com/snapex/snapex/internal/testenv"
)

// Access roles of the fault tests; their endpoints are fault proxies.
const (
	faultS3Role    = "c00000000000000000000011"
	faultAzureRole = "c00000000000000000000012"
	faultGCSRole   = "c00000000000000000000013"
)

// faultColls is the snapshot every fault test exports: shop.big becomes
// one data file above the S3 minimum part size (so every provider uses
// its multipart protocol for it), shop.orders one small data file sent in
// a single request, crm.none only a metadata.json.
var faultColls = map[string]int{"shop.big": 9000, "shop.orders": 120, "crm.none": 0}

// faultStore is one object store behind a fault proxy.
type faultStore struct {
	name     string
	provider atlas.Provider
	roleID   string
	proxy    *fp.Proxy
	partSize int64
	// create makes a bucket on the real server; open reads it directly,
	// not through the proxy; drop deletes it with everything in it.
	create func(t *testing.T, bucket string)
	open   func(t *testing.T, bucket string) blob.Bucket
	drop   func(t *testing.T, bucket string)
	// throttle is the store's own throttling answer.
	throttle fp.Fault
	// phases names the upload requests of an export in this store's
	// protocol; a transient fault hits the first request of each.
	phases []faultPhase
}

type faultPhase struct {
	name  string
	match fp.Match
}

// faultEnv starts versitygw, Azurite and fake-gcs-server, each behind a
// fault proxy, and a fixture whose access roles point at the proxies.
type faultEnv struct {
	f      *fixture
	stores []*faultStore
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	ctx := context.Background()
	s3srv := testenv.VersityGW(t)
	az := testenv.Azurite(t)
	gsrv := testenv.FakeGCS(t)
	proxy := func(base string) *fp.Proxy {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		p := fp.New(u)
		t.Cleanup(p.Close)
		return p
	}
	s3p, azp, gsp := proxy(s3srv.Endpoint), proxy(az.ServiceURL), proxy(gsrv.Endpoint)
	t.Setenv("FAULT_TEST_AK", s3srv.AccessKey)
	t.Setenv("FAULT_TEST_SK", s3srv.SecretKey)
	t.Setenv("FAULT_TEST_AZ", az.AccountKey)
	roles := fmt.Sprintf(`          - id: %s
            provider: AWS
            aws: {accessKeyId: env:FAULT_TEST_AK, secretAccessKey: env:FAULT_TEST_SK, region: us-east-1, endpoint: %s, usePathStyle: true}
          - id: %s
            provider: AZURE
            azure: {accountName: %s, accountKey: env:FAULT_TEST_AZ, endpoint: %q}
          - id: %s
            provider: GCP
            gcp: {endpoint: %q}`,
		faultS3Role, s3p.URL, faultAzureRole, az.AccountName, azp.URL.String()+"/"+az.AccountName,
		faultGCSRole, gsp.URL.String()+"/storage/v1/")
	f := newFixture(t, "", roles, "Cluster0", []string{"rs0"}, faultColls)

	dataFile := fp.PathContains(".json.gz")
	metadata := fp.PathContains("/metadata.json")
	complete := fp.PathContains("/.complete")
	permCheck := fp.PathContains(atlas.PermissionCheckKey)
	stores := []*faultStore{{
		name: "s3", provider: atlas.AWS, roleID: faultS3Role, proxy: s3p, partSize: s3.MinPartSize, throttle: fp.SlowDown,
		create: func(t *testing.T, bucket string) { s3srv.CreateBucket(t, bucket) },
		open:   func(t *testing.T, bucket string) blob.Bucket { return faultOpenS3(t, s3srv, bucket) },
		drop: func(t *testing.T, bucket string) {
			emptyBucket(t, faultOpenS3(t, s3srv, bucket))
			if _, err := s3srv.Client().DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: &bucket}); err != nil {
				t.Fatalf("delete bucket %s: %v", bucket, err)
			}
		},
		phases: []faultPhase{
			{"PUT .permissioncheck", fp.All(fp.S3PutObject, permCheck)},
			{"CreateMultipartUpload", fp.S3CreateMultipart},
			{"UploadPart", fp.S3UploadPart},
			{"CompleteMultipartUpload", fp.S3CompleteMultipart},
			{"PutObject of a data file", fp.All(fp.S3PutObject, dataFile)},
			{"PutObject of metadata.json", fp.All(fp.S3PutObject, metadata)},
			{"PutObject of .complete", fp.All(fp.S3PutObject, complete)},
		},
	}, {
		name: "azure", provider: atlas.Azure, roleID: faultAzureRole, proxy: azp, partSize: 1 << 20, throttle: fp.ServerBusy,
		create: func(t *testing.T, bucket string) { az.CreateContainer(t, bucket) },
		open: func(t *testing.T, bucket string) blob.Bucket {
			b, err := azure.Open(azure.Options{ServiceURL: az.ServiceURL, Container: bucket, AccountKey: az.AccountKey})
			return faultOpened(t, b, err)
		},
		drop: func(t *testing.T, bucket string) {
			c, err := az.Client()
			if err == nil {
				_, err = c.DeleteContainer(ctx, bucket, nil)
			}
			if err != nil {
				t.Fatalf("delete container %s: %v", bucket, err)
			}
		},
		phases: []faultPhase{
			{"Put Blob .permissioncheck", fp.All(fp.AzurePutBlob, permCheck)},
			{"Put Block", fp.AzurePutBlock},
			{"Put Block List", fp.AzurePutBlockList},
			{"Put Blob of a data file", fp.All(fp.AzurePutBlob, dataFile)},
			{"Put Blob of metadata.json", fp.All(fp.AzurePutBlob, metadata)},
			{"Put Blob of .complete", fp.All(fp.AzurePutBlob, complete)},
		},
	}, {
		name: "gcs", provider: atlas.GCP, roleID: faultGCSRole, proxy: gsp, partSize: 1 << 20, throttle: fp.TooManyRequests,
		create: func(t *testing.T, bucket string) { gsrv.CreateBucket(t, bucket) },
		open:   func(t *testing.T, bucket string) blob.Bucket { return faultOpenGCS(t, gsrv, bucket) },
		drop: func(t *testing.T, bucket string) {
			c, err := gsrv.Client(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			emptyBucket(t, faultOpenGCS(t, gsrv, bucket))
			if err := c.Bucket(bucket).Delete(ctx); err != nil {
				t.Fatalf("delete GCS bucket %s: %v", bucket, err)
			}
		},
		phases: []faultPhase{
			{"upload of .permissioncheck", fp.All(fp.GCSUpload, permCheck)},
			{"resumable session start", fp.All(fp.GCSUpload, fp.Query("uploadType", "resumable"), fp.Not(fp.HasQuery("upload_id")))},
			{"resumable chunk", fp.GCSChunk},
			{"single-request upload of a data file", fp.All(fp.GCSUpload, fp.Query("uploadType", "multipart"), dataFile)},
			{"single-request upload of .complete", fp.All(fp.GCSUpload, fp.Query("uploadType", "multipart"), complete)},
		},
	}}
	return &faultEnv{f: f, stores: stores}
}

func faultOpened(t *testing.T, b blob.Bucket, err error) blob.Bucket {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func faultOpenS3(t *testing.T, srv testenv.S3Server, bucket string) blob.Bucket {
	b, err := s3.Open(context.Background(), s3.Options{Bucket: bucket, Endpoint: srv.Endpoint, UsePathStyle: true, Region: "us-east-1",
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey})
	return faultOpened(t, b, err)
}

func faultOpenGCS(t *testing.T, srv testenv.GCSServer, bucket string) blob.Bucket {
	b, err := gcs.Open(context.Background(), gcs.Options{Bucket: bucket, Endpoint: srv.Endpoint})
	return faultOpened(t, b, err)
}

func emptyBucket(t *testing.T, b blob.Bucket) {
	t.Helper()
	ctx := context.Background()
	for o, err := range b.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, o.Key); err != nil {
			t.Fatal(err)
		}
	}
}

// faultBucketSeq names the buckets of the fault tests.
var faultBucketSeq int

// newBucket creates a fresh bucket on s's server, registers it with the
// fixture and makes it the bucket of the fixture's next job.
func (env *faultEnv) newBucket(t *testing.T, s *faultStore) string {
	t.Helper()
	faultBucketSeq++
	name := fmt.Sprintf("faults-%s-%d", s.name, faultBucketSeq)
	s.create(t, name)
	f := env.f
	f.bucket = &atlas.ExportBucket{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, BucketName: name,
		CloudProvider: s.provider, RoleID: s.roleID, CreatedAt: time.Now()}
	if err := f.store.CreateBucket(context.Background(), f.bucket); err != nil {
		t.Fatal(err)
	}
	return name
}

// engine returns an engine that exports each collection as one data file
// and uploads in s's part size, so shop.big takes the multipart path.
func (env *faultEnv) engine(s *faultStore) *export.Engine {
	e := env.f.engine("faults-" + s.name)
	e.Destinations.PartSize = s.partSize
	e.ChunkBytes = 64 << 20
	// Huffman-only compression keeps shop.big's data file above S3's
	// 5 MiB minimum part size.
	e.GzipLevel = gzip.HuffmanOnly
	return e
}

// runJob works job id as the queue would: up to 5 attempts, the last one
// final, within limit. It returns the attempts made and the final job.
func runJob(t *testing.T, e *export.Engine, f *fixture, id string, limit time.Duration) (int, *atlas.ExportJob) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	attempts := 0
	for attempts < 5 {
		attempts++
		err := e.Run(ctx, id, attempts == 5)
		if ctx.Err() != nil {
			t.Fatalf("job %s still running after %s (attempt %d): state %s", id, limit, attempts, f.job(id).State)
		}
		if err == nil {
			break
		}
		if errors.Is(err, export.ErrLeaseHeld) {
			t.Fatalf("attempt %d: lease held by another worker", attempts)
		}
		t.Logf("attempt %d failed (the queue retries it): %v", attempts, err)
	}
	j := f.job(id)
	if !j.State.Terminal() {
		t.Fatalf("after %d attempts job %s is %s", attempts, id, j.State)
	}
	return attempts, j
}

// checkInsidePrefix fails if the bucket holds an object outside the job's
// prefix other than the permission check, and returns the keys under it.
func checkInsidePrefix(t *testing.T, b blob.Bucket, prefix string) []string {
	t.Helper()
	var inside []string
	for o, err := range b.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(o.Key, prefix+"/"):
			inside = append(inside, o.Key)
		case o.Key == atlas.PermissionCheckKey:
		default:
			t.Errorf("object %s was written outside the job's prefix %s", o.Key, prefix)
		}
	}
	return inside
}

// logSummary lists the requests the proxy saw, for failure messages.
func logSummary(p *fp.Proxy) string {
	var b strings.Builder
	for _, e := range p.Log() {
		fmt.Fprintf(&b, "\n  %d %s %s?%s → %d %s", e.Seq, e.Method, e.Path, e.Query, e.Status, e.Fault)
	}
	return b.String()
}

// TestTransientStoreFaultsAreRetried injects each transient fault —
// connection reset, 500, 503, the store's throttling answer — into the
// first request of every upload phase (permission check, multipart start,
// part, commit, single-request data file, metadata.json, .complete) of one
// export per store and fault. The drivers retry them: the export ends
// Successful on its first attempt, exact, with nothing outside its prefix.
func TestTransientStoreFaultsAreRetried(t *testing.T) {
	env := newFaultEnv(t)
	for _, s := range env.stores {
		t.Run(s.name, func(t *testing.T) {
			for _, fault := range []fp.Fault{fp.Reset, fp.InternalError, fp.Unavailable, s.throttle} {
				t.Run(fault.String(), func(t *testing.T) {
					var rules []fp.Rule
					for _, ph := range s.phases {
						rules = append(rules, fp.Nth(ph.match, fault, 1))
					}
					attempts := env.exportThrough(t, s, fp.First(rules...), s.phases...)
					if attempts != 1 {
						t.Errorf("the %s driver did not absorb a single %s: the export needed %d attempts", s.name, fault, attempts)
					}
				})
			}
		})
	}
}

// truncationAbsorbed lists the upload phases whose truncated answers the
// store's driver retries by itself. The others fail the attempt with
// "unexpected EOF" (a transient error), and the job's next attempt redoes
// the data file: aws-sdk-go-v2 does not retry a response body cut short
// after a 200 status, nor does the GCS client for single-request uploads.
var truncationAbsorbed = map[string]map[string]bool{
	"s3":    {},
	"azure": {"*": true},
	"gcs":   {"resumable session start": true, "resumable chunk": true},
}

// TestTruncatedAnswersAreRetried cuts the store's answer to the first
// request of one upload phase per export short (the store did the work,
// the client cannot know): the export ends Successful and exact, within
// two attempts — one when the driver retries by itself.
func TestTruncatedAnswersAreRetried(t *testing.T) {
	env := newFaultEnv(t)
	for _, s := range env.stores {
		t.Run(s.name, func(t *testing.T) {
			for _, ph := range s.phases {
				t.Run(ph.name, func(t *testing.T) {
					attempts := env.exportThrough(t, s, fp.Nth(ph.match, fp.Truncate, 1), ph)
					want := 2
					if truncationAbsorbed[s.name]["*"] || truncationAbsorbed[s.name][ph.name] {
						want = 1
					}
					if attempts != want {
						t.Errorf("a truncated answer to %s on %s took %d attempts, want %d", ph.name, s.name, attempts, want)
					}
				})
			}
		})
	}
}

// exportThrough exports the fixture's snapshot into a fresh bucket of s
// with rule installed on its proxy, and checks that the job ended
// Successful and exact, with nothing outside its prefix, and that a fault
// really hit every one of phases. It returns the attempts the job took.
func (env *faultEnv) exportThrough(t *testing.T, s *faultStore, rule fp.Rule, phases ...faultPhase) int {
	t.Helper()
	bucket := env.newBucket(t, s)
	job := env.f.newJob()
	s.proxy.Clear()
	s.proxy.SetRule(rule)
	defer s.proxy.SetRule(nil)
	start := time.Now()
	attempts, got := runJob(t, env.engine(s), env.f, job.ID, 2*time.Minute)
	t.Logf("%d faults injected into %d requests; %d attempt(s); %s", s.proxy.Count(), len(s.proxy.Log()), attempts,
		time.Since(start).Round(time.Millisecond))
	if got.State != atlas.ExportSuccessful || got.StateReason != nil {
		t.Fatalf("job %s, reason %+v; requests:%s", got.State, got.StateReason, logSummary(s.proxy))
	}
	hit := map[string]bool{}
	for _, e := range s.proxy.Injections() {
		for _, ph := range phases {
			if ph.match(e.Request()) {
				hit[ph.name] = true
			}
		}
	}
	for _, ph := range phases {
		if !hit[ph.name] {
			t.Errorf("no fault was injected into a %s; requests:%s", ph.name, logSummary(s.proxy))
		}
	}
	b := s.open(t, bucket)
	ex := exporttest.ReadExport(t, b, job.Prefix)
	exporttest.SameDocs(t, env.f.docs.NonEmpty(), ex.Docs)
	if _, ok := ex.Files[job.Prefix+"/.complete"]; !ok {
		t.Fatal("no .complete")
	}
	checkInsidePrefix(t, b, job.Prefix)
	return attempts
}
