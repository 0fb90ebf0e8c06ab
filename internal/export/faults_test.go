package export_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
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
	drop   func(bucket string) error
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
		drop: func(bucket string) error {
			b, err := s3.Open(ctx, s3.Options{Bucket: bucket, Endpoint: s3srv.Endpoint, UsePathStyle: true, Region: "us-east-1",
				AccessKeyID: s3srv.AccessKey, SecretAccessKey: s3srv.SecretKey})
			if err == nil {
				err = emptyBucket(b)
			}
			if err == nil {
				_, err = s3srv.Client().DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: &bucket})
			}
			if err != nil {
				return err
			}
			// versitygw's posix backend checks the bucket when a PUT
			// arrives and creates the object's directories when it ends,
			// so a PUT in flight across the deletion brings the bucket's
			// directory back (real S3 would refuse it). Once such PUTs
			// have ended, the bucket must be gone for the deletion to
			// count; otherwise the caller deletes it again.
			time.Sleep(200 * time.Millisecond)
			if _, err := s3srv.Client().HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &bucket}); err == nil {
				return fmt.Errorf("bucket %s came back after its deletion (a PUT in flight recreated it)", bucket)
			}
			return nil
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
		drop: func(bucket string) error {
			c, err := az.Client()
			if err == nil {
				_, err = c.DeleteContainer(ctx, bucket, nil)
			}
			return err
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
		drop: func(bucket string) error {
			b, err := gcs.Open(ctx, gcs.Options{Bucket: bucket, Endpoint: gsrv.Endpoint})
			if err == nil {
				err = emptyBucket(b)
			}
			c, cerr := gsrv.Client(ctx)
			if err == nil {
				err = cerr
			}
			if err == nil {
				defer c.Close()
				err = c.Bucket(bucket).Delete(ctx)
			}
			return err
		},
		phases: []faultPhase{
			{"upload of .permissioncheck", fp.All(fp.GCSUpload, permCheck)},
			{"resumable session start", fp.All(fp.GCSUpload, fp.Query("uploadType", "resumable"), fp.Not(fp.HasQuery("upload_id")))},
			{"resumable chunk", fp.GCSChunk},
			{"single-request upload of a data file", fp.All(fp.GCSUpload, fp.Query("uploadType", "multipart"), dataFile)},
			{"final resumable chunk", fp.All(fp.GCSChunk, func(r *http.Request) bool {
				cr := r.Header.Get("Content-Range")
				return cr != "" && !strings.HasSuffix(cr, "/*")
			})},
			{"single-request upload of metadata.json", fp.All(fp.GCSUpload, fp.Query("uploadType", "multipart"), metadata)},
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

// emptyBucket deletes every object of b and closes it.
func emptyBucket(b blob.Bucket) error {
	defer b.Close()
	ctx := context.Background()
	for o, err := range b.List(ctx, "") {
		if err != nil {
			return err
		}
		if err := b.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
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
	f.t = t // the fixture's failures belong to this (sub)test
	// A snapshot has one active export at a time: whatever happens to
	// this test's job, leave it terminal for the next test.
	t.Cleanup(func() { env.settle(t) })
	f.bucket = &atlas.ExportBucket{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, BucketName: name,
		CloudProvider: s.provider, RoleID: s.roleID, CreatedAt: time.Now()}
	if err := f.store.CreateBucket(context.Background(), f.bucket); err != nil {
		t.Fatal(err)
	}
	return name
}

// settle cancels the fixture's jobs that are not terminal and works them
// to Cancelled with faults off.
func (env *faultEnv) settle(t *testing.T) {
	ctx := context.Background()
	for _, s := range env.stores {
		s.proxy.SetRule(nil)
	}
	jobs, err := env.f.store.ActiveExportJobsForSnapshot(ctx, env.f.snap.ID)
	if err != nil {
		t.Errorf("settle: %v", err)
		return
	}
	for _, id := range jobs {
		if _, err := env.f.store.RequestExportCancel(ctx, id, time.Now()); err != nil {
			t.Errorf("settle: cancel %s: %v", id, err)
		}
		e := env.f.engine("settle")
		for {
			err := e.Run(ctx, id, true)
			if !errors.Is(err, export.ErrLeaseHeld) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// engine returns an engine that exports each collection as one data file
// and uploads in s's part size, so shop.big takes the multipart path.
func (env *faultEnv) engine(s *faultStore) *export.Engine {
	e := env.f.engine("faults-" + s.name)
	// A store that never answers is given up on after the request
	// timeout, then retried.
	e.Destinations = env.f.destinations(&stores.Opener{PartSize: s.partSize, RequestTimeout: 2 * time.Second})
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

// truncationAbsorbed lists the stores whose drivers absorb a truncated
// answer to any upload phase by themselves (neither aws-sdk-go-v2 nor the
// GCS client retries a response body cut short after a success status:
// the S3 driver adds that retry to the SDK's, the GCS driver checks the
// object's size and CRC32C instead). A phase not listed would fail the
// attempt with "unexpected EOF" (a transient error), and the job's next
// attempt would redo the data file.
var truncationAbsorbed = map[string]map[string]bool{
	"s3":    {"*": true},
	"azure": {"*": true},
	"gcs":   {"*": true},
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

// TestStalledStoreIsRetriedNotHung makes the store accept the first part
// upload of the export and never answer (a black hole): the client must
// give up on the request and retry it, so the export still ends
// Successful within a bounded time instead of hanging InProgress.
func TestStalledStoreIsRetriedNotHung(t *testing.T) {
	env := newFaultEnv(t)
	stalled := map[string]fp.Match{"s3": fp.S3UploadPart, "azure": fp.AzurePutBlock, "gcs": fp.GCSChunk}
	const limit = 15 * time.Second
	for _, s := range env.stores {
		t.Run(s.name, func(t *testing.T) {
			bucket := env.newBucket(t, s)
			job := env.f.newJob()
			s.proxy.Clear()
			s.proxy.SetRule(fp.Nth(stalled[s.name], fp.Stall(time.Hour), 1))
			defer s.proxy.SetRule(nil)
			e := env.engine(s)
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			start := time.Now()
			err := e.Run(ctx, job.ID, false)
			elapsed := time.Since(start)
			stalls := s.proxy.Injections(fp.KindStall)
			if len(stalls) != 1 {
				t.Fatalf("%d stalls injected, want 1; requests:%s", len(stalls), logSummary(s.proxy))
			}
			got := env.f.job(job.ID)
			if ctx.Err() != nil {
				t.Fatalf("the %s driver never gave up on a request the store did not answer: after %s the job is still %s "+
					"(the stalled %s %s was held %s; a dead store would keep it InProgress forever); Run: %v",
					s.name, limit, got.State, stalls[0].Method, stalls[0].Path, stalls[0].Held.Round(time.Millisecond), err)
			}
			if err != nil || got.State != atlas.ExportSuccessful {
				t.Fatalf("Run: %v; job %s, reason %+v", err, got.State, got.StateReason)
			}
			if !stalls[0].ClientGaveUp {
				t.Fatal("the stalled request was not abandoned by the client")
			}
			t.Logf("stall abandoned after %s; export took %s", stalls[0].Held.Round(time.Millisecond), elapsed.Round(time.Millisecond))
			exporttest.SameDocs(t, env.f.docs.NonEmpty(), exporttest.ReadExport(t, s.open(t, bucket), job.Prefix).Docs)
		})
	}
}

// TestPermanentStoreFaultsFailTheJob refuses every upload of one
// collection's data with 403 AccessDenied, or deletes the bucket after
// the first data file: the job ends Failed on its first attempt with a
// stateReason naming the object or bucket and the store's answer. The
// partial objects of the failed export stay under the job's prefix (as
// Atlas leaves them), no .complete is written, and nothing is written
// outside the prefix but the permission check.
func TestPermanentStoreFaultsFailTheJob(t *testing.T) {
	env := newFaultEnv(t)
	for _, s := range env.stores {
		t.Run(s.name+"/access denied", func(t *testing.T) {
			bucket := env.newBucket(t, s)
			job := env.f.newJob()
			s.proxy.Clear()
			s.proxy.SetRule(fp.Always(fp.PathContains("/shop/orders/rs0."), fp.AccessDenied))
			defer s.proxy.SetRule(nil)
			e := env.engine(s)
			attempts, got := runJob(t, e, env.f, job.ID, 2*time.Minute)
			if s.proxy.Count() == 0 {
				t.Fatalf("no fault injected; requests:%s", logSummary(s.proxy))
			}
			checkFailed(t, got, attempts, 1, "EXPORT_BUCKET_ACCESS_DENIED", job.Prefix+"/shop/orders/rs0.0.json.gz", "faultproxy injected AccessDenied")
			b := s.open(t, bucket)
			inside := checkInsidePrefix(t, b, job.Prefix)
			// Data files finished before the refusal stay (Atlas's policy);
			// nothing of the refused collection, no metadata, no .complete.
			for _, k := range inside {
				if !strings.HasSuffix(k, ".json.gz") || strings.Contains(k, "/shop/orders/") {
					t.Fatalf("objects under the prefix of the failed job: %v; only finished data files of other collections may stay", inside)
				}
			}
		})
		t.Run(s.name+"/bucket deleted", func(t *testing.T) {
			bucket := env.newBucket(t, s)
			job := env.f.newJob()
			s.proxy.Clear()
			e := env.engine(s)
			e.Parallelism = 1
			// With one collection at a time, the export waits while the
			// bucket is deleted after its first data file.
			var dropped bool
			var dropErr error
			e.AfterChunk = func(string, store.Progress) {
				if !dropped {
					dropped = true
					// Small collections still upload meanwhile and may
					// refill the bucket between emptying and deleting it.
					for range 20 {
						if dropErr = s.drop(bucket); dropErr == nil {
							break
						}
						t.Logf("deleting the bucket again: %v", dropErr)
					}
				}
			}
			attempts, got := runJob(t, e, env.f, job.ID, 2*time.Minute)
			if !dropped || dropErr != nil {
				t.Fatalf("the bucket was not deleted: %v", dropErr)
			}
			// An upload in flight while the bucket goes may see only
			// connection resets (versitygw, keeping connections alive
			// like S3, answers before reading the body and closes, and
			// the reset drops its answer): a transient failure, so the
			// queue may retry once; that attempt must then fail for good
			// at the permission check.
			checkFailed(t, got, attempts, 2, "EXPORT_BUCKET_NOT_FOUND", bucket, "")
		})
	}
}

// checkFailed fails unless the job ended Failed within maxAttempts
// attempts (1 for a fault that is permanent from the start) with code and
// a message containing every non-empty want.
func checkFailed(t *testing.T, got *atlas.ExportJob, attempts, maxAttempts int, code string, want ...string) {
	t.Helper()
	if got.State != atlas.ExportFailed || got.StateReason == nil || got.FinishedAt == nil {
		t.Fatalf("job %s, reason %+v, finished %v; want Failed", got.State, got.StateReason, got.FinishedAt)
	}
	t.Logf("stateReason: %s: %s", got.StateReason.ErrorCode, got.StateReason.Message)
	if got.StateReason.ErrorCode != code {
		t.Errorf("errorCode %s, want %s", got.StateReason.ErrorCode, code)
	}
	for _, w := range want {
		if w != "" && !strings.Contains(got.StateReason.Message, w) {
			t.Errorf("the reason does not name %q: %s", w, got.StateReason.Message)
		}
	}
	if attempts > maxAttempts {
		t.Errorf("a permanent fault was retried: %d attempts, want at most %d", attempts, maxAttempts)
	}
}

// TestRandomStoreFaults throws transient faults at random (seeded) into
// about 15% of all requests of an export with parallel collections, and
// resets the third request for sure: every export ends Successful on its
// first attempt and exact.
func TestRandomStoreFaults(t *testing.T) {
	env := newFaultEnv(t)
	every := func(*http.Request) bool { return true }
	for _, s := range env.stores {
		t.Run(s.name, func(t *testing.T) {
			rule := fp.First(fp.Nth(every, fp.Reset, 3), fp.Chance(every, fp.Reset, 0.04, 11), fp.Chance(every, fp.InternalError, 0.04, 12),
				fp.Chance(every, fp.Unavailable, 0.04, 13), fp.Chance(every, s.throttle, 0.04, 14))
			bucket := env.newBucket(t, s)
			job := env.f.newJob()
			s.proxy.Clear()
			s.proxy.SetRule(rule)
			defer s.proxy.SetRule(nil)
			e := env.engine(s)
			e.Parallelism = 3
			attempts, got := runJob(t, e, env.f, job.ID, 2*time.Minute)
			t.Logf("%d faults injected into %d requests; %d attempt(s)", s.proxy.Count(), len(s.proxy.Log()), attempts)
			if got.State != atlas.ExportSuccessful || attempts != 1 {
				t.Fatalf("job %s after %d attempts, reason %+v; requests:%s", got.State, attempts, got.StateReason, logSummary(s.proxy))
			}
			if s.proxy.Count() == 0 {
				t.Fatal("no fault was injected")
			}
			b := s.open(t, bucket)
			exporttest.SameDocs(t, env.f.docs.NonEmpty(), exporttest.ReadExport(t, b, job.Prefix).Docs)
			checkInsidePrefix(t, b, job.Prefix)
		})
	}
}
