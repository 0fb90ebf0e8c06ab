package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestCLIQuickstart follows the README's quickstart with real servers:
// `snapex init`, Cluster0's URI and an S3 access role edited into the
// starter config, `config check`, serve, then snapshot, export and watch
// with the CLI on the starter's profile, and the exported files loaded
// back with mongoimport.
func TestCLIQuickstart(t *testing.T) {
	ferret := testenv.FerretDB(t)
	s3srv := testenv.VersityGW(t)
	s3srv.CreateBucket(t, "my-exports")
	ctx := context.Background()
	mc, err := mongo.Connect(options.Client().ApplyURI(ferret))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(ctx)
	const n = 500
	var docs []any
	for i := range n {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "sku", Value: fmt.Sprintf("sku-%03d", i)}, {Key: "qty", Value: int32(i % 7)}})
	}
	if _, err := mc.Database("shop").Collection("orders").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}

	// 1. snapex init, with the CLI profile kept in the test's directory.
	dir := t.TempDir()
	data := filepath.Join(dir, "snapex-data")
	cliEnv := []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "config-home")}
	r := runCLI(t, cliEnv, "init", "--dir", data)
	r.ok(t, "init")
	if !strings.Contains(r.stderr, `CLI profile      "default"`) {
		t.Fatalf("init did not report the CLI profile:\n%s", r.stderr)
	}

	// 2. and 3. Cluster0's connection string and an access role for the bucket.
	raw, err := os.ReadFile(filepath.Join(data, "snapex.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(raw), "uri: mongodb://127.0.0.1:27017", fmt.Sprintf("uri: %q", ferret), 1)
	const roleID = "65a000000000000000000001"
	t.Setenv("S3_KEY", s3srv.AccessKey)
	t.Setenv("S3_SECRET", s3srv.SecretKey)
	cfg = strings.Replace(cfg, "        accessRoles:\n", fmt.Sprintf(`        accessRoles:
          - id: %s
            provider: AWS
            aws: {accessKeyId: env:S3_KEY, secretAccessKey: env:S3_SECRET, region: us-east-1,
                  endpoint: %q, usePathStyle: true}
`, roleID, s3srv.Endpoint), 1)
	if cfg == string(raw) || !strings.Contains(cfg, roleID) || !strings.Contains(cfg, ferret) {
		t.Fatalf("starter config did not have the places the README names:\n%s", raw)
	}
	if err := os.WriteFile(filepath.Join(data, "snapex.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	checkEnv := append(os.Environ(), cliEnv...)
	if out := runCLI(t, checkEnv, "config", "check", "--config", filepath.Join(data, "snapex.yaml")).ok(t, "config check"); !strings.HasSuffix(out, ": ok\n") {
		t.Fatalf("config check: %q", out)
	}
	srv := startServer(t, data, cfg)

	// 4. Snapshot, export and watch with the CLI on the starter's profile
	// (only the port differs from the starter's).
	cliEnv = append(cliEnv, "MONGODB_ATLAS_OPS_MANAGER_URL="+srv.url)
	cli := func(args ...string) string {
		return strings.TrimSpace(runCLI(t, cliEnv, append([]string{"backups"}, args...)...).ok(t, strings.Join(args[:2], " ")))
	}
	snap := cli("snapshots", "create", "Cluster0", "--desc", "quickstart", "-o", "go-template={{.Id}}")
	if !atlas.ValidObjectID(snap) {
		t.Fatalf("snapshots create printed %q", snap)
	}
	if out := cli("snapshots", "watch", snap, "--clusterName", "Cluster0", "--interval", "200ms"); !strings.Contains(out, "snapshot "+snap+": completed") {
		t.Fatalf("snapshots watch:\n%s", out)
	}
	bucket := cli("exports", "buckets", "create", "my-exports", "--cloudProvider", "AWS", "--iamRoleId", roleID, "-o", "go-template={{.Id}}")
	job := cli("exports", "jobs", "create", "--clusterName", "Cluster0", "--bucketId", bucket, "--snapshotId", snap, "--customData", "owner=me", "-o", "go-template={{.Id}}")
	if out := cli("exports", "jobs", "watch", job, "--clusterName", "Cluster0", "--interval", "200ms"); !strings.Contains(out, ": Successful") {
		t.Fatalf("jobs watch:\n%s", out)
	}
	prefix := cli("exports", "jobs", "describe", "--clusterName", "Cluster0", "--exportId", job, "-o", "go-template={{.Prefix}}")

	// 5. Load the export with mongoimport.
	proxy := testenv.FerretDBCompat(t, ferret)
	mongoimport := testenv.Tool(t, "mongoimport")
	c := s3srv.Client()
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("my-exports"), Prefix: aws.String(prefix + "/shop/orders/")})
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, o := range list.Contents {
		if !strings.HasSuffix(aws.ToString(o.Key), ".json.gz") {
			continue
		}
		files++
		obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("my-exports"), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatal(err)
		}
		text, err := io.ReadAll(zr)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(mongoimport, "--uri", proxy.URI, "--db", "restored", "--collection", "orders", "--type", "json")
		cmd.Stdin = bytes.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mongoimport %s: %v\n%s", aws.ToString(o.Key), err, out)
		}
	}
	if files == 0 {
		t.Fatalf("no export files under %s/shop/orders/ in the bucket", prefix)
	}
	got, err := mc.Database("restored").Collection("orders").CountDocuments(ctx, bson.D{})
	if err != nil || got != n {
		t.Fatalf("restored.orders holds %d documents (%v), want %d", got, err, n)
	}
	var one bson.M
	if err := mc.Database("restored").Collection("orders").FindOne(ctx, bson.D{{Key: "_id", Value: int32(42)}}).Decode(&one); err != nil || one["sku"] != "sku-042" {
		t.Fatalf("restored document 42: %v, %v", one, err)
	}

	// The starter's local-directory role: the export lands in a directory
	// that holds only the export's objects afterwards.
	m := regexp.MustCompile(`access roles\s+AWS ([0-9a-f]{24})`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("init printed no AWS access role:\n%s", r.stderr)
	}
	localBucket := cli("exports", "buckets", "create", "local-exports", "--cloudProvider", "AWS", "--iamRoleId", m[1], "-o", "go-template={{.Id}}")
	localJob := cli("exports", "jobs", "create", "--clusterName", "Cluster0", "--bucketId", localBucket, "--snapshotId", snap, "-o", "go-template={{.Id}}")
	if out := cli("exports", "jobs", "watch", localJob, "--clusterName", "Cluster0", "--interval", "200ms"); !strings.Contains(out, ": Successful") {
		t.Fatalf("jobs watch (local bucket):\n%s", out)
	}
	entries, err := os.ReadDir(filepath.Join(data, "buckets", "aws", "local-exports"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if slices.Contains(names, ".snapex-tmp") || !slices.Contains(names, "exported_snapshots") {
		t.Fatalf("local bucket root after an export holds %v, want the export without .snapex-tmp", names)
	}

	// The snapshot can go once exported.
	if out := cli("snapshots", "delete", snap, "--clusterName", "Cluster0", "--force"); out != "Snapshot '"+snap+"' deleted" {
		t.Fatalf("snapshots delete: %q", out)
	}
}
