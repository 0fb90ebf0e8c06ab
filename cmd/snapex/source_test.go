package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/snapex/snapex/internal/testenv"
)

// sourceConfig writes a snapex config with one AWS access role on the S3
// server at endpoint, its keys read from the environment.
func sourceConfig(t *testing.T, endpoint string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: %s
organizations:
  - id: a0000000000000000000000a
    name: Org
    projects:
      - id: 100000000000000000000001
        name: Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: c00000000000000000000002, provider: AWS, aws: {accessKeyId: "env:SOURCE_TEST_AK", secretAccessKey: "env:SOURCE_TEST_SK", region: us-east-1, endpoint: %q, usePathStyle: true}}
`, filepath.Join(dir, "snapex.db"), endpoint)
	p := filepath.Join(dir, "snapex.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// restore and verify open an s3:// export with an access role's
// credentials, under the URL's prefix; a role that does not exist, or a
// role without its config, is refused by name.
func TestSourceOpensBucketURLsWithAnAccessRole(t *testing.T) {
	srv := testenv.VersityGW(t)
	srv.CreateBucket(t, "exports")
	t.Setenv("SOURCE_TEST_AK", srv.AccessKey)
	t.Setenv("SOURCE_TEST_SK", srv.SecretKey)
	cfg := sourceConfig(t, srv.Endpoint)
	ctx := context.Background()
	const prefix = "exported_snapshots/o/p/Cluster0/2026-12-05T0100/1796432400/"
	// Write through the same path the reader uses, then read back.
	f := sourceFlags{cfgPath: cfg, projectID: "100000000000000000000001", roleID: "c00000000000000000000002"}
	url := "s3://exports/" + strings.TrimSuffix(prefix, "/")
	b, gotPrefix, err := f.open(ctx, url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	defer b.Close()
	if gotPrefix != prefix {
		t.Fatalf("prefix = %q, want %q", gotPrefix, prefix)
	}
	if err := b.WriteAll(ctx, prefix+".complete", []byte(`{"totalFiles":0}`), nil); err != nil {
		t.Fatal(err)
	}
	got, err := b.ReadAll(ctx, prefix+".complete")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(`{"totalFiles":0}`)) {
		t.Fatalf("read back %q", got)
	}
	if _, err := srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("exports"), Key: aws.String(prefix + ".complete")}); err != nil {
		t.Fatalf("the object is not in the S3 bucket under the URL's prefix: %v", err)
	}

	bad := f
	bad.roleID = "c00000000000000000000009"
	if _, _, err := bad.open(ctx, url); err == nil || !strings.Contains(err.Error(), "no access role c00000000000000000000009") {
		t.Fatalf("unknown role: %v", err)
	}
	if _, _, err := (sourceFlags{roleID: "c00000000000000000000002"}).open(ctx, url); err == nil || !strings.Contains(err.Error(), "need --config") {
		t.Fatalf("role without config: %v", err)
	}
	if _, _, err := f.open(ctx, "ftp://exports/x"); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("unknown scheme: %v", err)
	}
}
