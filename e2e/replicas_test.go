package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/s3"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

const crashRole = "c00000000000000000000009"

// crashConfig exports into versitygw in 1 MiB chunks with short leases, so
// a killed worker's job is taken over within seconds.
func crashConfig(database, endpoint string) string {
	return `
database: ` + database + `
exports: {chunkMiB: 1, parallelism: 2, leaseSeconds: 3, concurrency: 2}
organizations:
  - id: ` + orgID + `
    name: Crash Org
    projects:
      - id: ` + groupID + `
        name: Crash Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - id: ` + crashRole + `
            provider: AWS
            aws: {accessKeyId: env:E2E_S3_AK, secretAccessKey: env:E2E_S3_SK, region: us-east-1, endpoint: ` + endpoint + `, usePathStyle: true}
apiKeys:
  - publicKey: ` + pubKey + `
    privateKey: file:secrets/key
    roles: [{role: ORG_OWNER, orgId: ` + orgID + `}]
`
}

// crashEnv is a config directory, an S3 server and a store handle.
type crashEnv struct {
	dir   string
	cfg   string
	s3    testenv.S3Server
	store *store.Store
}

func newCrashEnv(t *testing.T, database string) *crashEnv {
	t.Helper()
	dir := t.TempDir()
	srv := testenv.VersityGW(t)
	srv.CreateBucket(t, "crash-exports")
	t.Setenv("E2E_S3_AK", srv.AccessKey)
	t.Setenv("E2E_S3_SK", srv.SecretKey)
	writeSecrets(t, dir, map[string]string{"key": privKey})
	dsn := database
	if dsn == "" {
		dsn = "snapex.db"
	}
	e := &crashEnv{dir: dir, cfg: crashConfig(dsn, srv.Endpoint), s3: srv}
	if database == "" {
		database = dir + "/snapex.db"
	}
	st, err := store.Open(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	return e
}

// addSnapshot writes a snapshot of n documents per collection into the
// servers' snapshot directory and registers it.
func (e *crashEnv) addSnapshot(t *testing.T, colls map[string]int) (*atlas.Snapshot, exporttest.Docs) {
	t.Helper()
	snaps, err := (&stores.Opener{}).OpenSnapshotStorage(context.Background(), config.SnapshotStorage{Directory: e.dir + "/snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now().UTC().Truncate(time.Millisecond)
	sn := &atlas.Snapshot{ID: atlas.NewObjectID(created), GroupID: groupID, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot,
		Status: atlas.SnapshotCompleted, SnapshotType: "onDemand", FrequencyType: "ondemand", ReplicaSetName: "rs0", CreatedAt: created}
	docs := exporttest.WriteSnapshot(t, snaps, sn.ID, "Cluster0", created, []string{"rs0"}, colls)
	if err := e.store.CreateSnapshot(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	return sn, docs
}

func (e *crashEnv) bucket(t *testing.T) blob.Bucket {
	t.Helper()
	b, err := s3.Open(context.Background(), s3.Options{Bucket: "crash-exports", Region: "us-east-1", Endpoint: e.s3.Endpoint,
		UsePathStyle: true, AccessKeyID: e.s3.AccessKey, SecretAccessKey: e.s3.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// chunksDone is how many data files of a job are recorded.
func (e *crashEnv) chunksDone(t *testing.T, jobID string) int {
	t.Helper()
	p, err := e.store.ExportProgress(context.Background(), jobID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range p {
		n += u.NextChunk
	}
	return n
}

// verify proves a finished job's objects hold the snapshot's documents
// exactly once, with nothing else under its prefix.
func (e *crashEnv) verify(t *testing.T, b blob.Bucket, job *admin.DiskBackupExportJob, docs exporttest.Docs) {
	t.Helper()
	ex := exporttest.ReadExport(t, b, job.GetPrefix())
	exporttest.SameDocs(t, docs, ex.Docs)
	for _, k := range ex.Keys {
		if !strings.HasSuffix(k, ".json.gz") && !strings.HasSuffix(k, "/metadata.json") && k != job.GetPrefix()+"/.complete" {
			t.Fatalf("stray object %s", k)
		}
	}
	if _, ok := ex.Files[job.GetPrefix()+"/.complete"]; !ok {
		t.Fatal(".complete missing")
	}
}

func waitState(t *testing.T, c *admin.APIClient, jobID string, limit time.Duration) *admin.DiskBackupExportJob {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		j := val(c.CloudBackupsApi.GetBackupExport(context.Background(), groupID, "Cluster0", jobID).Execute()).get(t)
		switch j.GetState() {
		case "Successful":
			return j
		case "Failed", "Cancelled":
			t.Fatalf("job %s ended %s: %+v", jobID, j.GetState(), j.StateReason)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after %s", jobID, j.GetState(), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var colls = map[string]int{"shop.orders": 30000, "shop.items": 20000, "crm.people": 5000}

// TestSIGKILLMidExportResumes kills the only snapex process while it
// exports and restarts it: the job finishes with every document exactly
// once and no stray object.
func TestSIGKILLMidExportResumes(t *testing.T) {
	e := newCrashEnv(t, "")
	sn, docs := e.addSnapshot(t, colls)
	srv := startServer(t, e.dir, e.cfg)
	c := digestClient(t, srv.url, pubKey, privKey)
	ctx := context.Background()
	b := val(c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	job := val(c.CloudBackupsApi.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: sn.ID, ExportBucketId: b.GetId()}).Execute()).get(t)
	deadline := time.Now().Add(30 * time.Second)
	for e.chunksDone(t, job.GetId()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("export made no progress")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	mid, err := e.store.ExportJobByID(ctx, job.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if mid.State != atlas.ExportInProgress {
		t.Fatalf("the kill came too late: job already %s", mid.State)
	}
	restarted := startServer(t, e.dir, e.cfg)
	c2 := digestClient(t, restarted.url, pubKey, privKey)
	done := waitState(t, c2, job.GetId(), 90*time.Second)
	e.verify(t, e.bucket(t), done, docs)
}

// TestThreeReplicasOnPostgreSQL runs three snapex processes on one
// PostgreSQL and one S3 server, kills the one working a job mid-export,
// and shows every job Successful with exact output; the replicas share
// the queued jobs between them.
func TestThreeReplicasOnPostgreSQL(t *testing.T) {
	e := newCrashEnv(t, testenv.Postgres(t))
	var servers []*server
	for i := 0; i < 3; i++ {
		servers = append(servers, startServer(t, e.dir, e.cfg))
	}
	c := digestClient(t, servers[0].url, pubKey, privKey)
	ctx := context.Background()
	b := val(c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	type pending struct {
		id   string
		docs exporttest.Docs
	}
	var jobs []pending
	for i := 0; i < 6; i++ {
		sn, docs := e.addSnapshot(t, map[string]int{"shop.orders": 6000, "crm.people": 2000})
		client := digestClient(t, servers[i%3].url, pubKey, privKey)
		j := val(client.CloudBackupsApi.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
			SnapshotId: sn.ID, ExportBucketId: b.GetId()}).Execute()).get(t)
		jobs = append(jobs, pending{j.GetId(), docs})
	}
	// Sample which process holds each job's lease for the whole run.
	var mu sync.Mutex
	owners := map[string]bool{}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go func() {
		for sampleCtx.Err() == nil {
			for _, j := range jobs {
				if o := e.leaseOwnerQuiet(sampleCtx, j.id); o != "" {
					mu.Lock()
					owners[pidOf(o)] = true
					mu.Unlock()
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	killed := false
	deadline := time.Now().Add(30 * time.Second)
	for !killed && time.Now().Before(deadline) {
		for _, j := range jobs {
			owner := e.leaseOwner(t, j.id)
			if owner == "" {
				continue
			}
			if e.chunksDone(t, j.id) >= 1 {
				for _, s := range servers {
					if fmt.Sprint(s.cmd.Process.Pid) == pidOf(owner) {
						_ = s.cmd.Process.Signal(syscall.SIGKILL)
						_ = s.cmd.Wait()
						killed = true
					}
				}
			}
			if killed {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !killed {
		t.Fatal("never caught a replica mid-export")
	}
	var alive *server
	for _, s := range servers {
		if s.cmd.ProcessState == nil {
			alive = s
		}
	}
	c2 := digestClient(t, alive.url, pubKey, privKey)
	bucket := e.bucket(t)
	for _, j := range jobs {
		done := waitState(t, c2, j.id, 120*time.Second)
		e.verify(t, bucket, done, j.docs)
	}
	stopSampling()
	mu.Lock()
	defer mu.Unlock()
	if len(owners) < 2 {
		t.Fatalf("jobs were worked by %d replica(s), want them shared: %v", len(owners), owners)
	}
}

func (e *crashEnv) leaseOwner(t *testing.T, jobID string) string {
	t.Helper()
	var owner string
	q := "SELECT lease_owner FROM export_jobs WHERE id = $1"
	if e.store.Engine() == "sqlite" {
		q = "SELECT lease_owner FROM export_jobs WHERE id = ?"
	}
	if err := e.store.DB().QueryRowContext(context.Background(), q, jobID).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	return owner
}

// leaseOwnerQuiet is leaseOwner for a background sampler: errors read as "".
func (e *crashEnv) leaseOwnerQuiet(ctx context.Context, jobID string) string {
	var owner string
	_ = e.store.DB().QueryRowContext(ctx, "SELECT lease_owner FROM export_jobs WHERE id = $1", jobID).Scan(&owner)
	return owner
}

// pidOf extracts the pid from a lease owner "host/pid/random".
func pidOf(owner string) string {
	parts := strings.Split(owner, "/")
	if len(parts) < 3 {
		return owner
	}
	return parts[len(parts)-2]
}
