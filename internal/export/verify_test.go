package export_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/manifest"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
)

// tamper is one way of damaging an export; it returns the key the
// verifier must name.
type tamper struct {
	name string
	do   func(t *testing.T, b blob.Bucket, prefix, data string) string
}

var tampers = []tamper{
	{"deleted file", func(t *testing.T, b blob.Bucket, prefix, data string) string {
		mustDo(t, b.Delete(context.Background(), prefix+"/"+data))
		return data
	}},
	{"truncated file", func(t *testing.T, b blob.Bucket, prefix, data string) string {
		body := mustRead(t, b, prefix+"/"+data)
		mustDo(t, b.WriteAll(context.Background(), prefix+"/"+data, body[:len(body)/2], nil))
		return data
	}},
	{"flipped byte", func(t *testing.T, b blob.Bucket, prefix, data string) string {
		body := mustRead(t, b, prefix+"/"+data)
		body[len(body)/2] ^= 0x20
		mustDo(t, b.WriteAll(context.Background(), prefix+"/"+data, body, nil))
		return data
	}},
	{"extra file", func(t *testing.T, b blob.Bucket, prefix, data string) string {
		extra := "shop/orders/stray.txt"
		mustDo(t, b.WriteAll(context.Background(), prefix+"/"+extra, []byte("x"), nil))
		return extra
	}},
}

// editManifest changes a document count in manifest.json by hand.
var editManifest = tamper{"manifest edited by hand", func(t *testing.T, b blob.Bucket, prefix, _ string) string {
	body := string(mustRead(t, b, prefix+"/"+manifest.Name))
	i := strings.Index(body, `"documents": `)
	if i < 0 {
		t.Fatalf("manifest without documents: %s", body)
	}
	j := i + len(`"documents": `)
	edited := body[:j] + "9" + body[j:]
	mustDo(t, b.WriteAll(context.Background(), prefix+"/"+manifest.Name, []byte(edited), nil))
	return manifest.Name
}}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, b blob.Bucket, key string) []byte {
	t.Helper()
	body, err := b.ReadAll(context.Background(), key)
	mustDo(t, err)
	return body
}

// snapshotObjects copies every object under prefix, to restore between
// tampers.
func snapshotObjects(t *testing.T, b blob.Bucket, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for info, err := range b.List(context.Background(), prefix+"/") {
		mustDo(t, err)
		out[info.Key] = mustRead(t, b, info.Key)
	}
	return out
}

func restoreObjects(t *testing.T, b blob.Bucket, prefix string, saved map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	for info, err := range b.List(ctx, prefix+"/") {
		mustDo(t, err)
		if _, ok := saved[info.Key]; !ok {
			mustDo(t, b.Delete(ctx, info.Key))
		}
	}
	for k, v := range saved {
		mustDo(t, b.WriteAll(ctx, k, v, nil))
	}
}

// checkVerify verifies a good export, then each tamper, which must fail
// naming the tampered key.
func checkVerify(t *testing.T, b blob.Bucket, prefix, data string, withManifest bool, ts []tamper) {
	t.Helper()
	ctx := context.Background()
	rep, err := manifest.Verify(ctx, b, prefix)
	mustDo(t, err)
	if !rep.OK() || rep.WithManifest != withManifest {
		t.Fatalf("good export: ok=%v manifest=%v problems=%v files=%+v", rep.OK(), rep.WithManifest, rep.Problems, rep.Files)
	}
	saved := snapshotObjects(t, b, prefix)
	for _, tp := range ts {
		key := tp.do(t, b, prefix, data)
		rep, err := manifest.Verify(ctx, b, prefix)
		mustDo(t, err)
		named := false
		for _, f := range rep.Files {
			named = named || (f.Key == key && !f.OK)
		}
		if rep.OK() || !named {
			t.Errorf("%s: verify ok=%v, %s named=%v: %+v %v", tp.name, rep.OK(), key, named, rep.Files, rep.Problems)
		}
		restoreObjects(t, b, prefix, saved)
	}
}

func TestVerifyLocal(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 200, "crm.people": 10})
	b := openLocal(t, f)
	all := append(append([]tamper{}, tampers...), editManifest)
	t.Run("parquet", func(t *testing.T) {
		j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{Format: atlas.FormatParquet})
		f.runOK(j)
		checkVerify(t, b, j.Prefix, "shop/orders/rs0.1.parquet", true, all)
	})
	t.Run("ejson with manifest", func(t *testing.T) {
		j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{Manifest: true})
		f.runOK(j)
		checkVerify(t, b, j.Prefix, "shop/orders/rs0.1.json.gz", true, all)
	})
	t.Run("plain", func(t *testing.T) {
		j := f.newJob()
		f.runOK(j)
		// A plain export can only name a deleted file inside the chunk
		// numbering (rs0.1 of several).
		checkVerify(t, b, j.Prefix, "shop/orders/rs0.1.json.gz", false, tampers)
	})
}

// TestVerifyCloudStores exports to S3 (versitygw), Azure (Azurite) and
// GCS (fake-gcs-server) and verifies through the same blob.Bucket.
func TestVerifyCloudStores(t *testing.T) {
	cases := []struct {
		name     string
		provider atlas.Provider
		setup    func(t *testing.T) string // returns the access role's YAML body
	}{
		{"s3", atlas.AWS, func(t *testing.T) string {
			s3 := testenv.VersityGW(t)
			s3.CreateBucket(t, "exports")
			t.Setenv("VERIFY_TEST_AK", s3.AccessKey)
			t.Setenv("VERIFY_TEST_SK", s3.SecretKey)
			return `provider: AWS
            aws: {accessKeyId: env:VERIFY_TEST_AK, secretAccessKey: env:VERIFY_TEST_SK, region: us-east-1, endpoint: ` + s3.Endpoint + `, usePathStyle: true}`
		}},
		{"azure", atlas.Azure, func(t *testing.T) string {
			az := testenv.Azurite(t)
			az.CreateContainer(t, "exports")
			t.Setenv("VERIFY_TEST_AZ", az.AccountKey)
			return `provider: AZURE
            azure: {accountName: ` + az.AccountName + `, accountKey: env:VERIFY_TEST_AZ, endpoint: "` + az.ServiceURL + `"}`
		}},
		{"gcs", atlas.GCP, func(t *testing.T) string {
			gs := testenv.FakeGCS(t)
			gs.CreateBucket(t, "exports")
			return `provider: GCP
            gcp: {endpoint: "` + gs.Endpoint + `"}`
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			roles := "          - id: " + s3Role + "\n            " + c.setup(t)
			f := newFixture(t, "", roles, "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 200, "crm.people": 10})
			ctx := context.Background()
			f.bucket = &atlas.ExportBucket{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, BucketName: "exports", CloudProvider: c.provider, RoleID: s3Role, CreatedAt: time.Now()}
			mustDo(t, f.store.CreateBucket(ctx, f.bucket))
			b := openLocal(t, f)
			j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{Format: atlas.FormatParquet, NSExclude: []string{"crm.*"}})
			f.runOK(j)
			checkVerify(t, b, j.Prefix, "shop/orders/rs0.1.parquet", true, append(append([]tamper{}, tampers...), editManifest))
			plain := f.newJob()
			f.runOK(plain)
			checkVerify(t, b, plain.Prefix, "shop/orders/rs0.1.json.gz", false, tampers)
		})
	}
}

// TestManifestAfterResume interrupts a Parquet export after a few files
// and finishes it in a second run: the manifest must still list every
// file with the right digest and count, including those the first run
// uploaded (read back for it).
func TestManifestAfterResume(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 400})
	j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{Format: atlas.FormatParquet})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var files atomic.Int64
	first := withFormats(f.engine("w1"))
	first.AfterChunk = func(string, store.Progress) {
		if files.Add(1) == 3 {
			cancel()
		}
	}
	_ = first.Run(ctx, j.ID, false)
	progress, err := f.store.ExportProgress(context.Background(), j.ID)
	mustDo(t, err)
	var done int
	for _, p := range progress {
		done += p.NextChunk
	}
	if done == 0 || f.job(j.ID).State == atlas.ExportSuccessful {
		t.Fatalf("the first run was not interrupted mid-way: %d files recorded, state %s", done, f.job(j.ID).State)
	}
	second := withFormats(f.engine("w1"))
	waitFor(t, 20*time.Second, func() bool {
		_ = second.Run(context.Background(), j.ID, false)
		return f.job(j.ID).State == atlas.ExportSuccessful
	})
	b := openLocal(t, f)
	rep, err := manifest.Verify(context.Background(), b, j.Prefix)
	mustDo(t, err)
	if !rep.OK() {
		t.Fatalf("resumed export: %v %+v", rep.Problems, rep.Files)
	}
	var docs int64
	for _, r := range rep.Files {
		docs += r.Documents
	}
	if docs != 400 {
		t.Fatalf("manifest counts %d documents, want 400", docs)
	}
}
