package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/auth"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/httpapi"
	"github.com/snapex/snapex/internal/httpapi/authgate"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/storerepo"
	"github.com/snapex/snapex/internal/store"
)

const (
	optOrg    = "a0000000000000000000000a"
	optGroup  = "100000000000000000000001"
	optRole   = "c00000000000000000000001"
	optPublic = "ownerkey"
	optSecret = "11111111-2222-3333-4444-555555555555"
)

// optionsAPI is a real snapex API (SQLite store, digest authentication)
// with one AWS bucket, and a runner of `snapex backups` commands
// against it.
type optionsAPI struct {
	st     *store.Store
	bucket *atlas.ExportBucket
	run    func(args ...string) (string, error)
}

func newOptionsAPI(t *testing.T, at time.Time) *optionsAPI {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(optSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`
database: %s
organizations:
  - id: %s
    name: Org
    projects:
      - id: %s
        name: Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: %s, provider: AWS, local: {directory: buckets}}
apiKeys:
  - publicKey: %s
    privateKey: file:owner
    roles: [{role: ORG_OWNER, orgId: %s}]
`, filepath.Join(dir, "snapex.db"), optOrg, optGroup, optRole, optPublic, optOrg)
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	authn, err := auth.New(ctx, cfg, st, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := &httpapi.Server{Service: &service.Service{Repo: &storerepo.Repo{Store: st}, Catalog: cfg.Catalog(), Log: log}, Gate: authgate.New(authn), Log: log}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)

	bucket := &atlas.ExportBucket{ID: atlas.NewObjectID(at), GroupID: optGroup, BucketName: "exports", CloudProvider: atlas.AWS, RoleID: optRole, CreatedAt: at}
	if err := st.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": optPublic, "MONGODB_ATLAS_PRIVATE_API_KEY": optSecret,
		"MONGODB_ATLAS_OPS_MANAGER_URL": srv.URL + "/", "MONGODB_ATLAS_PROJECT_ID": optGroup, "SNAPEX_CLI_CONFIG": filepath.Join(dir, "cli.toml")}
	run := func(args ...string) (string, error) {
		cmd := NewBackupsCommand(Env{Getenv: func(k string) string { return env[k] }, UserAgent: "test"})
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.Execute()
		return out.String(), err
	}
	return &optionsAPI{st: st, bucket: bucket, run: run}
}

// TestJobsCreateSendsExportOptions runs `jobs create` against a real
// snapex API (SQLite store, digest authentication): the extension flags
// arrive as snapexOptions and are stored with the job; without them the
// job is a plain Atlas export.
func TestJobsCreateSendsExportOptions(t *testing.T) {
	at := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	a := newOptionsAPI(t, at)
	ctx, st, bucket, run := context.Background(), a.st, a.bucket, a.run
	newSnap := func(at time.Time) string {
		sn := &atlas.Snapshot{ID: atlas.NewObjectID(at), GroupID: optGroup, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot,
			Status: atlas.SnapshotCompleted, SnapshotType: "onDemand", FrequencyType: "ondemand", CreatedAt: at, ExpiresAt: at.Add(time.Hour), ReplicaSetName: "rs0"}
		if err := st.CreateSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		return sn.ID
	}
	jobOf := func(out string) *atlas.ExportJob {
		t.Helper()
		id := strings.TrimSpace(out)
		j, err := st.ExportJobByID(ctx, id)
		if err != nil {
			t.Fatalf("job %q: %v", id, err)
		}
		return j
	}
	base := []string{"exports", "jobs", "create", "--clusterName", "Cluster0", "--bucketId", bucket.ID, "-o", "go-template={{.Id}}"}

	out, err := run(append(base, "--snapshotId", newSnap(at), "--format", "parquet", "--nsInclude", "shop.*", "--nsInclude", "crm.people",
		"--nsExclude", "shop.tmp*", "--parquetCompression", "snappy", "--parquetRowGroupRows", "5000", "--parquetFullDocument")...)
	if err != nil {
		t.Fatalf("create with options: %v\n%s", err, out)
	}
	o := jobOf(out).Options
	if o == nil || o.Format != "parquet" || !o.Manifest || strings.Join(o.NSInclude, ",") != "shop.*,crm.people" || strings.Join(o.NSExclude, ",") != "shop.tmp*" ||
		o.Parquet == nil || o.Parquet.Compression != "snappy" || o.Parquet.RowGroupRows != 5000 || !o.Parquet.FullDocument {
		t.Fatalf("stored options: %+v %+v", o, o.Parquet)
	}

	out, err = run(append(base, "--snapshotId", newSnap(at.Add(time.Hour)))...)
	if err != nil {
		t.Fatalf("plain create: %v\n%s", err, out)
	}
	if o := jobOf(out).Options; o != nil {
		t.Fatalf("a plain create stored options %+v", o)
	}

	out, err = run(append(base, "--snapshotId", newSnap(at.Add(2*time.Hour)), "--format", "csv")...)
	if err == nil || !strings.Contains(err.Error(), "snapexOptions.format") || !strings.Contains(err.Error(), "INVALID_ATTRIBUTE") {
		t.Fatalf("bad format: %v\n%s", err, out)
	}
}
