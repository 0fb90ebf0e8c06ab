package stores

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob/blobtest"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/testenv"
)

const (
	orgID   = "a0000000000000000000000a"
	groupID = "100000000000000000000001"
	localRl = "c00000000000000000000001"
	s3Rl    = "c00000000000000000000002"
)

// testConfig loads a configuration with a local and an S3 access role
// and, when s3Endpoint is set, snapshot storage in the S3 bucket "snaps".
func testConfig(t *testing.T, s3Endpoint string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	aws := fmt.Sprintf(`{accessKeyId: "env:STORES_TEST_AK", secretAccessKey: "env:STORES_TEST_SK", region: us-east-1, endpoint: %q, usePathStyle: true}`, s3Endpoint)
	snaps := "snapshotStorage: {directory: snapshots}"
	if s3Endpoint != "" {
		snaps = "snapshotStorage: {bucket: snaps, aws: " + aws + "}"
	}
	yaml := `
database: ` + filepath.Join(dir, "snapex.db") + `
organizations:
  - id: ` + orgID + `
    name: Org
    projects:
      - id: ` + groupID + `
        name: Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: ` + localRl + `, provider: AWS, local: {directory: buckets}}
          - {id: ` + s3Rl + `, provider: AWS, aws: ` + aws + `}
` + snaps + "\n"
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Snapshot storage is opened with the opener's settings, as export
// buckets are: an object larger than the configured part size is uploaded
// in parts, where the drivers' default part size would take one request.
func TestSnapshotStorageGetsTheOpenersPartSize(t *testing.T) {
	srv := testenv.VersityGW(t)
	srv.CreateBucket(t, "snaps")
	t.Setenv("STORES_TEST_AK", srv.AccessKey)
	t.Setenv("STORES_TEST_SK", srv.SecretKey)
	var parts atomic.Int64
	proxy := blobtest.NewFaultProxy(t, srv.Endpoint, func(_ *blobtest.FaultProxy, r *http.Request) bool {
		if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
			parts.Add(1)
		}
		return false
	})
	cfg := testConfig(t, proxy.URL)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16) // 11 MiB
	for _, c := range []struct {
		opener    *Opener
		wantParts int64
	}{
		{&Opener{}, 0},                  // 16 MiB default: one PUT
		{&Opener{PartSize: 5 << 20}, 3}, // 5 + 5 + 1 MiB
	} {
		parts.Store(0)
		st, err := c.opener.OpenSnapshotStorage(ctx, cfg.SnapshotStorage)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("s1/part-%d", c.opener.PartSize)
		w, err := st.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := parts.Load(); got != c.wantParts {
			t.Errorf("part size %d: %d UploadPart requests, want %d", c.opener.PartSize, got, c.wantParts)
		}
		r, err := st.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v", len(got), err)
		}
	}
}

// The permission check writes .permissioncheck into the bucket with the
// role's credentials, and answers 400 EXPORT_BUCKET_ACCESS_DENIED naming
// the bucket and the role when it cannot.
func TestCheckBucketAccess(t *testing.T) {
	t.Setenv("STORES_TEST_AK", "unused")
	t.Setenv("STORES_TEST_SK", "unused")
	cfg := testConfig(t, "")
	d := &Destinations{Catalog: cfg.Catalog(), Opener: &Opener{}}
	ctx := context.Background()
	ok := &atlas.ExportBucket{GroupID: groupID, BucketName: "exports", CloudProvider: atlas.AWS, RoleID: localRl}
	if err := d.CheckBucketAccess(ctx, ok); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(cfg.SnapshotStorage.Directory), "buckets", "exports")
	if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(atlas.PermissionCheckKey))); err != nil || fi.Size() != 0 {
		t.Fatalf("permission check object: %v, %v", fi, err)
	}

	for name, b := range map[string]*atlas.ExportBucket{
		"unknown role": {GroupID: groupID, BucketName: "exports", CloudProvider: atlas.AWS, RoleID: "c0000000000000000000000f"},
		// A file where the bucket's directory should be.
		"unwritable": {GroupID: groupID, BucketName: "exports/" + atlas.PermissionCheckKey, CloudProvider: atlas.AWS, RoleID: localRl},
	} {
		err := d.CheckBucketAccess(ctx, b)
		var ae *atlas.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "EXPORT_BUCKET_ACCESS_DENIED" ||
			len(ae.Params) != 2 || ae.Params[0] != b.BucketName || ae.Params[1] != b.RoleID {
			t.Errorf("%s: %v, want 400 EXPORT_BUCKET_ACCESS_DENIED with the bucket and role", name, err)
		}
	}
}
