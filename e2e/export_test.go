package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/api/iterator"
)

// Access roles of the export tests (the Atlas iamRoleId / roleId values).
const (
	expS3Role     = "e00000000000000000000001"
	expS3BadRole  = "e00000000000000000000002"
	expAzureRole  = "e00000000000000000000003"
	expGCPRole    = "e00000000000000000000004"
	expChunkBytes = 1 << 20 // exports.chunkMiB in the config below
	expOrgName    = "Export Org"
	expGroupName  = "Export Project"
	expWait       = 45 * time.Second
)

// expEnv is a snapex server whose access roles point at real object stores.
type expEnv struct {
	dir    string
	config string
	srv    *server
	api    *admin.APIClient
	s3     *testenv.S3Server
	az     *testenv.AzuriteServer
	gcs    *testenv.GCSServer
}

// expProviders selects the object stores an expEnv starts.
type expProviders struct{ s3, azure, gcs bool }

// startExportEnv starts the selected object stores and a snapex server
// configured with roles for them (credentials passed as env: references),
// 1 MiB chunks and a short lease.
func startExportEnv(t *testing.T, p expProviders) *expEnv {
	t.Helper()
	e := &expEnv{dir: t.TempDir()}
	var roles strings.Builder
	if p.s3 {
		s := testenv.VersityGW(t)
		e.s3 = &s
		t.Setenv("SNAPEX_E2E_S3_KEY", s.AccessKey)
		t.Setenv("SNAPEX_E2E_S3_SECRET", s.SecretKey)
		t.Setenv("SNAPEX_E2E_S3_BAD_SECRET", s.SecretKey+"-wrong")
		for _, r := range []struct{ id, secret string }{{expS3Role, "SNAPEX_E2E_S3_SECRET"}, {expS3BadRole, "SNAPEX_E2E_S3_BAD_SECRET"}} {
			fmt.Fprintf(&roles, "          - {id: %s, provider: AWS, aws: {accessKeyId: env:SNAPEX_E2E_S3_KEY, secretAccessKey: env:%s, region: %s, endpoint: %q, usePathStyle: true}}\n",
				r.id, r.secret, s.Region, s.Endpoint)
		}
	}
	if p.azure {
		a := testenv.Azurite(t)
		e.az = &a
		t.Setenv("SNAPEX_E2E_AZURE_KEY", a.AccountKey)
		fmt.Fprintf(&roles, "          - {id: %s, provider: AZURE, azure: {accountName: %s, accountKey: env:SNAPEX_E2E_AZURE_KEY, endpoint: %q}}\n",
			expAzureRole, a.AccountName, a.ServiceURL)
	}
	if p.gcs {
		g := testenv.FakeGCS(t)
		e.gcs = &g
		fmt.Fprintf(&roles, "          - {id: %s, provider: GCP, gcp: {endpoint: %q}}\n", expGCPRole, g.Endpoint)
	}
	cfg := `
database: snapex.db
exports: {chunkMiB: 1, parallelism: 2, leaseSeconds: 6}
organizations:
  - id: ` + orgID + `
    name: ` + expOrgName + `
    projects:
      - id: ` + groupID + `
        name: ` + expGroupName + `
        clusters:
          - name: Cluster0
            labels: [{key: env, value: e2e}, {key: team, value: "data & platform"}]
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
          - name: Sharded0
            type: SHARDED
            labels: [{key: tier, value: sharded}]
            replicaSets:
              - {name: shard0, uri: "mongodb://127.0.0.1:1"}
              - {name: shard1, uri: "mongodb://127.0.0.1:2"}
              - {name: configRS, uri: "mongodb://127.0.0.1:3", configServer: true}
        accessRoles:
` + roles.String() + `
apiKeys:
  - publicKey: ` + pubKey + `
    privateKey: file:secrets/key
    roles: [{role: ORG_OWNER, orgId: ` + orgID + `}]
`
	writeSecrets(t, e.dir, map[string]string{"key": privKey})
	e.srv = startServer(t, e.dir, cfg)
	e.config = filepath.Join(e.dir, "snapex.yaml")
	e.api = digestClient(t, e.srv.url, pubKey, privKey)
	return e
}

// importSnapshot runs "snapex snapshot import" and returns the id it prints.
func (e *expEnv) importSnapshot(t *testing.T, cluster, dumpDir string) string {
	t.Helper()
	cmd := exec.Command(snapexBinary(t), "snapshot", "import", "--config", e.config, "--project", groupID, "--cluster", cluster, dumpDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("snapex snapshot import %s: %v\n%s", dumpDir, err, stderr.String())
	}
	id := strings.TrimSpace(stdout.String())
	if !atlas.ValidObjectID(id) {
		t.Fatalf("snapshot import printed %q, want a snapshot id; stderr:\n%s", stdout.String(), stderr.String())
	}
	return id
}

// createBucket adds an export bucket through the SDK and checks that the
// permission-check object landed in it right away.
func (e *expEnv) createBucket(t *testing.T, req *admin.DiskBackupSnapshotExportBucketRequest, store objectStore) string {
	t.Helper()
	ctx := context.Background()
	b := val(e.api.CloudBackupsApi.CreateExportBucket(ctx, groupID, req).Execute()).get(t)
	if !atlas.ValidObjectID(b.GetId()) || b.GetCloudProvider() != req.CloudProvider {
		t.Fatalf("created bucket: %+v", b)
	}
	body, err := store.read(ctx, atlas.PermissionCheckKey)
	if err != nil {
		t.Fatalf("%s bucket %s: permission check object after create: %v", req.CloudProvider, store, err)
	}
	if len(body) != 0 {
		t.Fatalf("%s: %s holds %d bytes, want an empty object", store, atlas.PermissionCheckKey, len(body))
	}
	return b.GetId()
}

// wantBucketDenied creates a bucket that snapex cannot write and expects
// 400 EXPORT_BUCKET_ACCESS_DENIED naming the bucket and the role.
func (e *expEnv) wantBucketDenied(t *testing.T, req *admin.DiskBackupSnapshotExportBucketRequest, bucket, role string) {
	t.Helper()
	_, _, err := e.api.CloudBackupsApi.CreateExportBucket(context.Background(), groupID, req).Execute()
	apiErr, ok := admin.AsError(err)
	if !ok || apiErr.GetError() != 400 || apiErr.GetErrorCode() != "EXPORT_BUCKET_ACCESS_DENIED" {
		t.Fatalf("%s bucket %s with role %s: got %v, want 400 EXPORT_BUCKET_ACCESS_DENIED", req.CloudProvider, bucket, role, err)
	}
	if d := apiErr.GetDetail(); !strings.Contains(d, bucket) || !strings.Contains(d, role) {
		t.Errorf("access-denied detail should name bucket %s and role %s: %q", bucket, role, d)
	}
}

// startExport creates an export job and checks the Queued answer.
func (e *expEnv) startExport(t *testing.T, cluster, snapID, bucketID string, custom []admin.BackupLabel) *admin.DiskBackupExportJob {
	t.Helper()
	req := &admin.DiskBackupExportJobRequest{SnapshotId: snapID, ExportBucketId: bucketID}
	if custom != nil {
		req.CustomData = &custom
	}
	job := val(e.api.CloudBackupsApi.CreateBackupExport(context.Background(), groupID, cluster, req).Execute()).get(t)
	if job.GetState() != "Queued" || !atlas.ValidObjectID(job.GetId()) || job.GetSnapshotId() != snapID || job.GetExportBucketId() != bucketID {
		t.Fatalf("created export: %+v", job)
	}
	if job.FinishedAt != nil {
		t.Fatalf("queued export has finishedAt %v", job.GetFinishedAt())
	}
	return job
}

// waitExport polls the job until it is terminal and requires Successful.
func (e *expEnv) waitExport(t *testing.T, cluster, id string) *admin.DiskBackupExportJob {
	t.Helper()
	deadline := time.Now().Add(expWait)
	var seen []string
	for {
		job := val(e.api.CloudBackupsApi.GetBackupExport(context.Background(), groupID, cluster, id).Execute()).get(t)
		st := job.GetState()
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		switch st {
		case "Successful":
			for _, s := range seen {
				if s != "Queued" && s != "InProgress" && s != "Successful" {
					t.Fatalf("export %s went through state %q (states seen: %v)", id, s, seen)
				}
			}
			return job
		case "Failed", "Cancelled":
			r := job.GetStateReason()
			t.Fatalf("export %s ended %s: %s: %s (states seen: %v)", id, st, r.GetErrorCode(), r.GetMessage(), seen)
		case "Queued", "InProgress":
		default:
			t.Fatalf("export %s: unknown state %q", id, st)
		}
		if time.Now().After(deadline) {
			t.Fatalf("export %s not finished after %v; states seen: %v; last: %+v", id, expWait, seen, job)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// objectStore reads a bucket back with the provider's own client.
type objectStore interface {
	list(ctx context.Context) ([]string, error)
	read(ctx context.Context, key string) ([]byte, error)
	remove(ctx context.Context, key string) error
	String() string
}

type s3Store struct {
	c      *s3.Client
	bucket string
}

func (s s3Store) String() string { return "s3://" + s.bucket }

func (s s3Store) list(ctx context.Context) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}

func (s s3Store) read(ctx context.Context, key string) ([]byte, error) {
	o, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", s, key, err)
	}
	defer o.Body.Close()
	return io.ReadAll(o.Body)
}

func (s s3Store) remove(ctx context.Context, key string) error {
	if _, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete %s/%s: %w", s, key, err)
	}
	return nil
}

type azureStore struct {
	c         *azblob.Client
	container string
}

func (s azureStore) String() string { return "azure:" + s.container }

func (s azureStore) list(ctx context.Context) ([]string, error) {
	var out []string
	p := s.c.NewListBlobsFlatPager(s.container, nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s, err)
		}
		for _, b := range page.Segment.BlobItems {
			out = append(out, *b.Name)
		}
	}
	return out, nil
}

func (s azureStore) read(ctx context.Context, key string) ([]byte, error) {
	r, err := s.c.DownloadStream(ctx, s.container, key, nil)
	if err != nil {
		return nil, fmt.Errorf("download %s/%s: %w", s, key, err)
	}
	defer r.Body.Close()
	return io.ReadAll(r.Body)
}

func (s azureStore) remove(ctx context.Context, key string) error {
	if _, err := s.c.DeleteBlob(ctx, s.container, key, nil); err != nil {
		return fmt.Errorf("delete %s/%s: %w", s, key, err)
	}
	return nil
}

type gcsStore struct {
	c      *storage.Client
	bucket string
}

func (s gcsStore) String() string { return "gs://" + s.bucket }

func (s gcsStore) list(ctx context.Context) ([]string, error) {
	var out []string
	it := s.c.Bucket(s.bucket).Objects(ctx, nil)
	for {
		o, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s, err)
		}
		out = append(out, o.Name)
	}
}

func (s gcsStore) read(ctx context.Context, key string) ([]byte, error) {
	r, err := s.c.Bucket(s.bucket).Object(key).NewReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", s, key, err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (s gcsStore) remove(ctx context.Context, key string) error {
	if err := s.c.Bucket(s.bucket).Object(key).Delete(ctx); err != nil {
		return fmt.Errorf("delete %s/%s: %w", s, key, err)
	}
	return nil
}

// expDataFile is one expected data object and the documents it holds.
type expDataFile struct {
	key  string
	docs []bson.Raw
}

// expNamespace is one exported collection.
type expNamespace struct {
	db, coll string
	src      *dumpColl // metadata source: the first replica set holding it
	files    []expDataFile
}

// expectedLayout computes the data files of an export from the source: per
// replica set (in the given order) and collection, documents go into
// <prefix>/<db>/<coll>/<rs>.<n>.json.gz in dump order, a file ending with
// the document that brings its BSON to the chunk size.
func expectedLayout(prefix string, rsOrder []string, src map[string][]*dumpColl) []*expNamespace {
	byKey := map[string]*expNamespace{}
	var out []*expNamespace
	for _, rs := range rsOrder {
		for _, c := range src[rs] {
			if !c.exported() {
				continue
			}
			k := c.db + "\x00" + c.name()
			ns := byKey[k]
			if ns == nil {
				ns = &expNamespace{db: c.db, coll: c.name(), src: c}
				byKey[k] = ns
				out = append(out, ns)
			}
			n, size := 0, 0
			var cur []bson.Raw
			flush := func() {
				ns.files = append(ns.files, expDataFile{key: fmt.Sprintf("%s/%s/%s/%s.%d.json.gz", prefix, c.db, c.name(), rs, n), docs: cur})
				n, size, cur = n+1, 0, nil
			}
			for _, d := range c.docs {
				cur = append(cur, d)
				size += len(d)
				if size >= expChunkBytes {
					flush()
				}
			}
			if len(cur) > 0 {
				flush()
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].db != out[j].db {
			return out[i].db < out[j].db
		}
		return out[i].coll < out[j].coll
	})
	return out
}

// expCheck is what an export must have produced.
type expCheck struct {
	job        *admin.DiskBackupExportJob
	rsOrder    []string
	src        map[string][]*dumpColl
	clusterID  string
	cluster    string
	labels     []admin.ComponentLabel // the cluster's labels as the API reports them
	snapshotAt time.Time              // the snapshot's createdAt as the API reports it (seconds)
	custom     []admin.BackupLabel
}

var completeDateRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// verifyExport reads the bucket back and proves it holds exactly the
// expected objects with exactly the source's documents and metadata.
func verifyExport(t *testing.T, store objectStore, c expCheck) {
	t.Helper()
	ctx := context.Background()
	prefix := c.job.GetPrefix()
	nss := expectedLayout(prefix, c.rsOrder, c.src)

	// Exact object names.
	want := []string{atlas.PermissionCheckKey, prefix + "/.complete"}
	dataFiles := 0
	for _, ns := range nss {
		want = append(want, fmt.Sprintf("%s/%s/%s/metadata.json", prefix, ns.db, ns.coll))
		for _, f := range ns.files {
			want = append(want, f.key)
			dataFiles++
		}
	}
	sort.Strings(want)
	got, err := store.list(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		var missing, extra []string
		for _, k := range want {
			if _, found := slices.BinarySearch(got, k); !found {
				missing = append(missing, k)
			}
		}
		for _, k := range got {
			if _, found := slices.BinarySearch(want, k); !found {
				extra = append(extra, k)
			}
		}
		t.Fatalf("%s: objects differ from the expected layout\nmissing: %q\nextra:   %q", store, missing, extra)
	}

	if b, err := store.read(ctx, atlas.PermissionCheckKey); err != nil || len(b) != 0 {
		t.Errorf("%s: %s: %d bytes, %v; want empty", store, atlas.PermissionCheckKey, len(b), err)
	}

	// Every document, in order, in its chunk.
	for _, ns := range nss {
		for _, f := range ns.files {
			verifyDataFile(t, store, f)
		}
		verifyMetadata(t, store, prefix, ns)
	}
	verifyComplete(t, store, c, dataFiles+len(nss))

	// Job fields once finished.
	st := c.job.GetExportStatus()
	if st.GetTotalCollections() != len(nss) || st.GetExportedCollections() != len(nss) {
		t.Errorf("exportStatus = {exported %d, total %d}, want {%d, %d} (namespaces: %s)",
			st.GetExportedCollections(), st.GetTotalCollections(), len(nss), len(nss), nsNames(nss))
	}
	if c.job.FinishedAt == nil || c.job.GetFinishedAt().Before(c.job.GetCreatedAt()) {
		t.Errorf("finishedAt = %v, want set and not before createdAt %v", c.job.FinishedAt, c.job.GetCreatedAt())
	}
	if c.job.StateReason != nil {
		t.Errorf("successful export has stateReason %+v", c.job.GetStateReason())
	}
}

func nsNames(nss []*expNamespace) string {
	var s []string
	for _, ns := range nss {
		s = append(s, ns.db+"."+ns.coll)
	}
	return strings.Join(s, ", ")
}

// verifyDataFile checks one gzip data file: one canonical Extended JSON
// document per line, each decoding to exactly the source document's bytes
// and spelled exactly as the driver's canonical encoder spells it.
func verifyDataFile(t *testing.T, store objectStore, f expDataFile) {
	t.Helper()
	body, err := store.read(context.Background(), f.key)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not gzip: %v", f.key, err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: gunzip: %v", f.key, err)
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		t.Fatalf("%s: %d bytes of JSON not ending in a newline", f.key, len(text))
	}
	lines := bytes.Split(text[:len(text)-1], []byte{'\n'})
	if len(lines) != len(f.docs) {
		t.Fatalf("%s: %d lines, want %d documents", f.key, len(lines), len(f.docs))
	}
	bad := 0
	for i, line := range lines {
		src := f.docs[i]
		var got bson.Raw
		if err := bson.UnmarshalExtJSON(line, true, &got); err != nil {
			t.Errorf("%s line %d: not canonical Extended JSON: %v: %s", f.key, i+1, err, clip(line))
			bad++
		} else if !bytes.Equal(got, src) {
			t.Errorf("%s line %d: decodes to a different document\n got  %s\n want %s", f.key, i+1, clip([]byte(got.String())), clip([]byte(src.String())))
			bad++
		} else if canon, err := bson.MarshalExtJSON(src, true, false); err != nil {
			t.Fatalf("driver cannot encode source document: %v", err)
		} else if !bytes.Equal(line, canon) {
			t.Errorf("%s line %d: not the canonical spelling\n got  %s\n want %s", f.key, i+1, clip(line), clip(canon))
			bad++
		}
		if bad >= 5 {
			t.Fatalf("%s: giving up after %d bad lines", f.key, bad)
		}
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

// verifyMetadata checks a collection's metadata.json against the dump's
// metadata: exactly collectionName, indexes, options and uuid (no type for
// plain collections), indexes and options equal as BSON.
func verifyMetadata(t *testing.T, store objectStore, prefix string, ns *expNamespace) {
	t.Helper()
	key := fmt.Sprintf("%s/%s/%s/metadata.json", prefix, ns.db, ns.coll)
	body, err := store.read(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("%s: not a JSON object: %v: %s", key, err, body)
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	if want := []string{"collectionName", "indexes", "options", "uuid"}; !slices.Equal(names, want) {
		t.Errorf("%s: fields %v, want %v", key, names, want)
	}
	var md bson.Raw
	if err := bson.UnmarshalExtJSON(body, true, &md); err != nil {
		t.Fatalf("%s: not canonical Extended JSON: %v", key, err)
	}
	src := ns.src.md
	if v, _ := md.Lookup("collectionName").StringValueOK(); v != ns.coll {
		t.Errorf("%s: collectionName %q, want %q", key, v, ns.coll)
	}
	if v, _ := md.Lookup("uuid").StringValueOK(); v != src.UUID {
		t.Errorf("%s: uuid %q, want %q", key, v, src.UUID)
	}
	opts, ok := md.Lookup("options").DocumentOK()
	wantOpts := src.Options
	if len(wantOpts) == 0 {
		wantOpts = bson.Raw{5, 0, 0, 0, 0}
	}
	if !ok || !bytes.Equal(opts, wantOpts) {
		t.Errorf("%s: options %s, want %s", key, opts, wantOpts)
	}
	arr, ok := md.Lookup("indexes").ArrayOK()
	if !ok {
		t.Fatalf("%s: indexes is not an array: %s", key, body)
	}
	vals, err := arr.Values()
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(src.Indexes) {
		t.Fatalf("%s: %d indexes, want %d: %s", key, len(vals), len(src.Indexes), body)
	}
	for i, v := range vals {
		if doc, ok := v.DocumentOK(); !ok || !bytes.Equal(doc, src.Indexes[i]) {
			t.Errorf("%s: index %d is %s, want %s", key, i, v, src.Indexes[i])
		}
	}
}

// verifyComplete checks .complete field by field.
func verifyComplete(t *testing.T, store objectStore, c expCheck, totalFiles int) {
	t.Helper()
	key := c.job.GetPrefix() + "/.complete"
	body, err := store.read(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("%s: not a JSON object: %v: %s", key, err, body)
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	wantNames := []string{"clusterName", "clusterUniqueId", "customData", "groupId", "groupName", "labels", "orgId", "orgName", "snapshotInitiationDate", "totalFiles"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("%s: fields %v, want %v", key, names, wantNames)
	}
	type kv struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	var doc struct {
		OrgID, OrgName, GroupID, GroupName, ClusterUniqueID, ClusterName, SnapshotInitiationDate string
		TotalFiles                                                                               json.Number
		Labels, CustomData                                                                       []kv
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v: %s", key, err, body)
	}
	check := func(field, got, want string) {
		if got != want {
			t.Errorf("%s: %s = %q, want %q", key, field, got, want)
		}
	}
	check("orgId", doc.OrgID, orgID)
	check("orgName", doc.OrgName, expOrgName)
	check("groupId", doc.GroupID, groupID)
	check("groupName", doc.GroupName, expGroupName)
	check("clusterUniqueId", doc.ClusterUniqueID, c.clusterID)
	check("clusterName", doc.ClusterName, c.cluster)
	check("totalFiles", doc.TotalFiles.String(), fmt.Sprint(totalFiles))
	if !completeDateRE.MatchString(doc.SnapshotInitiationDate) {
		t.Errorf("%s: snapshotInitiationDate %q is not yyyy-MM-ddTHH:mm:ss.SSSZ", key, doc.SnapshotInitiationDate)
	} else {
		at, _ := time.Parse("2006-01-02T15:04:05.000Z", doc.SnapshotInitiationDate)
		if !at.Truncate(time.Second).Equal(c.snapshotAt) {
			t.Errorf("%s: snapshotInitiationDate %s, but the snapshot was created at %s", key, doc.SnapshotInitiationDate, c.snapshotAt.Format(time.RFC3339))
		}
		if seg := strings.Split(c.job.GetPrefix(), "/")[4]; seg != at.Format("2006-01-02T1504") {
			t.Errorf("prefix date segment %q does not match snapshotInitiationDate %s", seg, doc.SnapshotInitiationDate)
		}
	}
	wantLabels := []kv{}
	for _, l := range c.labels {
		wantLabels = append(wantLabels, kv{l.GetKey(), l.GetValue()})
	}
	if !slices.Equal(doc.Labels, wantLabels) {
		t.Errorf("%s: labels %+v, want the cluster's %+v", key, doc.Labels, wantLabels)
	}
	wantCustom := []kv{}
	for _, l := range c.custom {
		wantCustom = append(wantCustom, kv{l.GetKey(), l.GetValue()})
	}
	if !slices.Equal(doc.CustomData, wantCustom) {
		t.Errorf("%s: customData %+v, want %+v", key, doc.CustomData, wantCustom)
	}
}

// clusterLabels returns the cluster's labels from the API after checking
// they are the configured ones (key=value pairs).
func clusterLabels(t *testing.T, cl *admin.ClusterDescription20240805, want ...string) []admin.ComponentLabel {
	t.Helper()
	var got []string
	for _, l := range cl.GetLabels() {
		got = append(got, l.GetKey()+"="+l.GetValue())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("cluster %s labels %q, want the configured %q", cl.GetName(), got, want)
	}
	return cl.GetLabels()
}

// checkPrefix requires the prefix Atlas uses: org id, project id, cluster name,
// snapshot minute, job creation second.
func checkPrefix(t *testing.T, job *admin.DiskBackupExportJob, cluster string) {
	t.Helper()
	want := fmt.Sprintf(`^exported_snapshots/%s/%s/%s/\d{4}-\d\d-\d\dT\d{4}/%d$`, orgID, groupID, cluster, job.GetCreatedAt().Unix())
	if !regexp.MustCompile(want).MatchString(job.GetPrefix()) {
		t.Fatalf("prefix %q does not match %s", job.GetPrefix(), want)
	}
}

// TestExportToEveryProvider imports a mongodump directory (gzip and plain
// variants) with the CLI, exports it through the official SDK into a
// versitygw S3 bucket, an Azurite container and a fake-gcs bucket at
// once, and reads every bucket back with the provider's own client.
func TestExportToEveryProvider(t *testing.T) {
	e := startExportEnv(t, expProviders{s3: true, azure: true, gcs: true})
	ctx := context.Background()
	api := e.api.CloudBackupsApi

	source := replicaSetDump(t)
	src := map[string][]*dumpColl{"rs0": source}
	gzDir, plainDir := filepath.Join(e.dir, "dump-gz"), filepath.Join(e.dir, "dump-plain")
	writeDump(t, gzDir, true, source)
	writeDump(t, plainDir, false, source)
	if big := source[1]; big.name() != "big" || big.bsonBytes() < 3*expChunkBytes {
		t.Fatalf("generator: %s has %d bytes, want ≥ 3 chunks", big.name(), big.bsonBytes())
	}

	// Buckets, each proven writable at creation.
	e.s3.CreateBucket(t, "snapex-e2e-s3")
	e.az.CreateContainer(t, "snapex-e2e-azure")
	e.gcs.CreateBucket(t, "snapex-e2e-gcs")
	azc, err := e.az.Client()
	if err != nil {
		t.Fatal(err)
	}
	gcsc, err := e.gcs.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer gcsc.Close()
	stores := map[string]objectStore{
		"AWS":   s3Store{e.s3.Client(), "snapex-e2e-s3"},
		"AZURE": azureStore{azc, "snapex-e2e-azure"},
		"GCP":   gcsStore{gcsc, "snapex-e2e-gcs"},
	}
	buckets := map[string]string{
		"AWS": e.createBucket(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "AWS",
			BucketName: admin.PtrString("snapex-e2e-s3"), IamRoleId: admin.PtrString(expS3Role)}, stores["AWS"]),
		"AZURE": e.createBucket(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "AZURE", RoleId: admin.PtrString(expAzureRole),
			ServiceUrl: admin.PtrString("https://" + e.az.AccountName + ".blob.core.windows.net/snapex-e2e-azure")}, stores["AZURE"]),
		"GCP": e.createBucket(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "GCP",
			BucketName: admin.PtrString("snapex-e2e-gcs"), RoleId: admin.PtrString(expGCPRole)}, stores["GCP"]),
	}

	// Buckets snapex cannot write are refused at creation.
	e.s3.CreateBucket(t, "snapex-e2e-s3-denied")
	e.wantBucketDenied(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "AWS",
		BucketName: admin.PtrString("snapex-e2e-s3-denied"), IamRoleId: admin.PtrString(expS3BadRole)}, "snapex-e2e-s3-denied", expS3BadRole)
	e.wantBucketDenied(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "AZURE", RoleId: admin.PtrString(expAzureRole),
		ServiceUrl: admin.PtrString("https://" + e.az.AccountName + ".blob.core.windows.net/no-such-container")}, "no-such-container", expAzureRole)
	e.wantBucketDenied(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "GCP",
		BucketName: admin.PtrString("snapex-e2e-no-such-bucket"), RoleId: admin.PtrString(expGCPRole)}, "snapex-e2e-no-such-bucket", expGCPRole)
	if denied, err := (s3Store{e.s3.Client(), "snapex-e2e-s3-denied"}).list(ctx); err != nil || len(denied) != 0 {
		t.Errorf("bucket written with wrong credentials: %q, %v", denied, err)
	}
	if list := val(api.ListExportBuckets(ctx, groupID).IncludeCount(true).Execute()).get(t); list.GetTotalCount() != 3 {
		t.Errorf("%d export buckets after 3 accepted and 3 refused", list.GetTotalCount())
	}

	// The permission check is written again when an export starts: remove
	// it so that the final listing proves it.
	for _, p := range []string{"AWS", "AZURE", "GCP"} {
		if err := stores[p].remove(ctx, atlas.PermissionCheckKey); err != nil {
			t.Fatal(err)
		}
	}

	// One snapshot per export so the three run at once (one active export
	// per snapshot); the Azure one comes from the uncompressed dump.
	snaps := map[string]string{
		"AWS":   e.importSnapshot(t, "Cluster0", gzDir),
		"AZURE": e.importSnapshot(t, "Cluster0", plainDir),
		"GCP":   e.importSnapshot(t, "Cluster0", gzDir),
	}
	cl := val(e.api.ClustersApi.GetCluster(ctx, groupID, "Cluster0").Execute()).get(t)
	custom := []admin.BackupLabel{
		{Key: admin.PtrString("ticket"), Value: admin.PtrString("OPS-1234")},
		{Key: admin.PtrString("note"), Value: admin.PtrString(`ünïcödé & <b>"quoted"</b>`)},
	}
	providers := []string{"AWS", "AZURE", "GCP"}
	jobs := map[string]*admin.DiskBackupExportJob{}
	for _, p := range providers {
		jobs[p] = e.startExport(t, "Cluster0", snaps[p], buckets[p], custom)
		checkPrefix(t, jobs[p], "Cluster0")
		if len(jobs[p].GetComponents()) != 0 {
			t.Errorf("replica-set export has components: %+v", jobs[p].GetComponents())
		}
	}
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			created := jobs[p]
			job := e.waitExport(t, "Cluster0", created.GetId())
			if job.GetPrefix() != created.GetPrefix() || !job.GetCreatedAt().Equal(created.GetCreatedAt()) {
				t.Errorf("job changed: created %+v, finished %+v", created, job)
			}
			snap := val(api.GetClusterBackupSnapshot(ctx, groupID, "Cluster0", snaps[p]).Execute()).get(t)
			verifyExport(t, stores[p], expCheck{job: job, rsOrder: []string{"rs0"}, src: src, clusterID: cl.GetId(),
				cluster: "Cluster0", labels: clusterLabels(t, cl, "env=e2e", "team=data & platform"), snapshotAt: snap.GetCreatedAt(), custom: custom})
		})
	}
}

// TestExportShardedCluster exports a sharded snapshot (two shards and a
// config server replica set) into S3: one component per replica set, data
// files per shard, one metadata.json per collection.
func TestExportShardedCluster(t *testing.T) {
	e := startExportEnv(t, expProviders{s3: true})
	ctx := context.Background()
	api := e.api.CloudBackupsApi

	src := shardedDump(t)
	dumpDir := filepath.Join(e.dir, "dump-sharded")
	for rs, colls := range src {
		writeDump(t, filepath.Join(dumpDir, rs), rs != "shard1", colls)
	}
	e.s3.CreateBucket(t, "snapex-e2e-sharded")
	store := s3Store{e.s3.Client(), "snapex-e2e-sharded"}
	bucketID := e.createBucket(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "AWS",
		BucketName: admin.PtrString("snapex-e2e-sharded"), IamRoleId: admin.PtrString(expS3Role)}, store)
	snapID := e.importSnapshot(t, "Sharded0", dumpDir)

	sn := val(api.GetBackupShardedCluster(ctx, groupID, "Sharded0", snapID).Execute()).get(t)
	var members []string
	for _, m := range sn.GetMembers() {
		members = append(members, m.GetReplicaSetName())
	}
	sort.Strings(members)
	if want := []string{"configRS", "shard0", "shard1"}; !slices.Equal(members, want) {
		t.Fatalf("sharded snapshot members %v, want %v", members, want)
	}

	created := e.startExport(t, "Sharded0", snapID, bucketID, nil)
	checkPrefix(t, created, "Sharded0")
	job := e.waitExport(t, "Sharded0", created.GetId())

	var comps []string
	ids := map[string]bool{job.GetId(): true}
	for _, c := range job.GetComponents() {
		comps = append(comps, c.GetReplicaSetName())
		if !atlas.ValidObjectID(c.GetExportId()) || ids[c.GetExportId()] {
			t.Errorf("component %s: exportId %q is not a fresh object id", c.GetReplicaSetName(), c.GetExportId())
		}
		ids[c.GetExportId()] = true
	}
	sort.Strings(comps)
	if want := []string{"configRS", "shard0", "shard1"}; !slices.Equal(comps, want) {
		t.Errorf("components %v, want one per replica set %v", comps, want)
	}
	if len(created.GetComponents()) != len(job.GetComponents()) {
		t.Errorf("components at creation %+v, after %+v", created.GetComponents(), job.GetComponents())
	}

	cl := val(e.api.ClustersApi.GetCluster(ctx, groupID, "Sharded0").Execute()).get(t)
	verifyExport(t, store, expCheck{job: job, rsOrder: []string{"configRS", "shard0", "shard1"}, src: src, clusterID: cl.GetId(),
		cluster: "Sharded0", labels: clusterLabels(t, cl, "tier=sharded"), snapshotAt: sn.GetCreatedAt(), custom: nil})

	// The layout has what this dump was built to show: a collection on
	// both shards, one shard with several chunks, and a collection with
	// no documents on one shard.
	keys, err := store.list(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"/shop/orders/shard0.2.json.gz", "/shop/orders/shard1.0.json.gz", "/shop/sparse/shard0.0.json.gz", "/inventory/items/shard1.0.json.gz"} {
		if !slices.Contains(keys, job.GetPrefix()+suffix) {
			t.Errorf("no %s in %q", suffix, keys)
		}
	}
	if slices.Contains(keys, job.GetPrefix()+"/shop/sparse/shard1.0.json.gz") {
		t.Error("a data file was written for a shard without documents")
	}
}
