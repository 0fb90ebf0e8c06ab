package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/servicetest"
)

const (
	orgID     = "5e0000000000000000000001"
	groupID   = "5f0000000000000000000001"
	otherID   = "5f0000000000000000000002"
	awsRole   = "6a0000000000000000000001"
	awsNoRgn  = "6a0000000000000000000002"
	azureRole = "6a0000000000000000000003"
	gcpRole   = "6a0000000000000000000004"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

type fixture struct {
	svc    *service.Service
	repo   *servicetest.Repo
	data   *servicetest.SnapshotData
	access *servicetest.AccessChecker
	now    time.Time
	rs     atlas.Cluster
	sh     atlas.Cluster
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{repo: &servicetest.Repo{}, data: &servicetest.SnapshotData{}, access: &servicetest.AccessChecker{}, now: t0}
	f.rs = atlas.Cluster{GroupID: groupID, Name: "Cluster0", Type: atlas.ReplicaSetCluster, ReplicaSets: []atlas.ReplicaSet{{Name: "rs0"}}}
	f.sh = atlas.Cluster{GroupID: groupID, Name: "Sharded0", Type: atlas.ShardedCluster,
		ReplicaSets: []atlas.ReplicaSet{{Name: "cfg", ConfigServer: true}, {Name: "shard0"}, {Name: "shard1"}}}
	cat := &servicetest.Catalog{
		Projects:    []atlas.Project{{ID: groupID, OrgID: orgID, Name: "p"}},
		ClusterList: []atlas.Cluster{f.rs, f.sh},
		Roles: map[string][]*config.AccessRole{groupID: {
			{ID: awsRole, Provider: "AWS", AWS: &config.AWSAccess{Region: "eu-west-1"}},
			{ID: awsNoRgn, Provider: "AWS", AWS: &config.AWSAccess{}},
			{ID: azureRole, Provider: "AZURE", Azure: &config.AzureAccess{TenantID: "tenant-1"}},
			{ID: gcpRole, Provider: "GCP", GCP: &config.GCPAccess{}},
		}},
	}
	f.svc = &service.Service{Repo: f.repo, Catalog: cat, Access: f.access, Snapshots: f.data, Now: func() time.Time { return f.now }}
	return f
}

// wantCode fails unless err is an Atlas error with code.
func wantCode(t *testing.T, what string, err error, code atlas.Code) {
	t.Helper()
	var ae *atlas.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s: got %v, want Atlas error %s", what, err, code)
	}
	if ae.Code != code {
		t.Fatalf("%s: got %s (%s), want %s", what, ae.Code, ae.Detail, code)
	}
}

func (f *fixture) bucket(t *testing.T) *atlas.ExportBucket {
	t.Helper()
	b, err := f.svc.CreateBucket(context.Background(), groupID, service.BucketInput{CloudProvider: "AWS", BucketName: "exports", RoleField: "iamRoleId", RoleID: awsRole})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) completedSnapshot(c atlas.Cluster, created time.Time) *atlas.Snapshot {
	sn := atlas.NewOnDemandSnapshot(c, "", 1, created)
	sn.Status, sn.CreatedAt = atlas.SnapshotCompleted, created
	f.repo.AddSnapshot(sn)
	return sn
}

func TestProjectAndCluster(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Project("nothex")
	wantCode(t, "malformed project", err, atlas.CodeInvalidGroupID)
	_, err = f.svc.Project(otherID)
	wantCode(t, "unknown project", err, atlas.CodeGroupNotFound)
	if p, err := f.svc.Project(groupID); err != nil || p.OrgID != orgID {
		t.Fatalf("known project: %+v %v", p, err)
	}
	_, err = f.svc.Cluster(groupID, "-bad")
	wantCode(t, "malformed cluster name", err, atlas.CodeInvalidPathParameter)
	_, err = f.svc.Cluster(groupID, "Nope")
	wantCode(t, "unknown cluster", err, atlas.CodeClusterNotFound)
}

func TestListClustersPages(t *testing.T) {
	f := newFixture(t)
	got, total := f.svc.ListClusters(groupID, atlas.Page{Number: 2, ItemsPerPage: 1})
	if total != 2 || len(got) != 1 || got[0].Name != "Sharded0" {
		t.Fatalf("page 2 of 1: %v total %d", got, total)
	}
	if got, total := f.svc.ListClusters(groupID, atlas.Page{Number: 3, ItemsPerPage: 1}); total != 2 || len(got) != 0 {
		t.Fatalf("page past the end: %v total %d", got, total)
	}
}

func TestCreateBucketRules(t *testing.T) {
	cases := []struct {
		name string
		in   service.BucketInput
		code atlas.Code
	}{
		{"unknown provider", service.BucketInput{CloudProvider: "IBM", BucketName: "b12", RoleID: awsRole}, atlas.CodeInvalidProvider},
		{"bad S3 name", service.BucketInput{CloudProvider: "AWS", BucketName: "Bad_Name", RoleID: awsRole}, atlas.CodeExportBucketNameInvalid},
		{"malformed role id", service.BucketInput{CloudProvider: "AWS", BucketName: "exports", RoleField: "iamRoleId", RoleID: "x"}, atlas.CodeInvalidAttribute},
		{"unknown role", service.BucketInput{CloudProvider: "AWS", BucketName: "exports", RoleField: "iamRoleId", RoleID: "6a00000000000000000000ff"}, atlas.CodeInvalidAttribute},
		{"role of another provider", service.BucketInput{CloudProvider: "AWS", BucketName: "exports", RoleField: "iamRoleId", RoleID: gcpRole}, atlas.CodeInvalidAttribute},
		{"azure over http", service.BucketInput{CloudProvider: "AZURE", ServiceURL: "http://a.blob.core.windows.net/c1c", RoleField: "roleId", RoleID: azureRole}, atlas.CodeInvalidAttribute},
		{"azure name differs from container", service.BucketInput{CloudProvider: "AZURE", BucketName: "other", ServiceURL: "https://a.blob.core.windows.net/c1c", RoleField: "roleId", RoleID: azureRole}, atlas.CodeInvalidAttribute},
		{"private networking on GCP", service.BucketInput{CloudProvider: "GCP", BucketName: "exports", RoleField: "roleId", RoleID: gcpRole, RequirePrivateNetworking: true}, atlas.CodeInvalidAttribute},
	}
	for _, c := range cases {
		f := newFixture(t)
		_, err := f.svc.CreateBucket(context.Background(), groupID, c.in)
		wantCode(t, c.name, err, c.code)
		if got, total, _ := f.repo.ListBuckets(context.Background(), groupID, "", atlas.FirstPage); total != 0 {
			t.Fatalf("%s: a refused bucket was stored: %v", c.name, got)
		}
	}
}

func TestCreateBucketFillsProviderDetails(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if b := f.bucket(t); b.Region != "eu-west-1" || b.GroupID != groupID || !atlas.ValidObjectID(b.ID) {
		t.Fatalf("AWS bucket: %+v", b)
	}
	b, err := f.svc.CreateBucket(ctx, groupID, service.BucketInput{CloudProvider: "AWS", BucketName: "exports2", RoleID: awsNoRgn})
	if err != nil || b.Region != "us-east-1" {
		t.Fatalf("AWS bucket without a region: %+v %v", b, err)
	}
	az, err := f.svc.CreateBucket(ctx, groupID, service.BucketInput{CloudProvider: "AZURE", ServiceURL: "https://a.blob.core.windows.net/c1c", RoleID: azureRole})
	if err != nil || az.BucketName != "c1c" || az.TenantID != "tenant-1" {
		t.Fatalf("Azure bucket: %+v %v", az, err)
	}
	if got, err := f.svc.GetBucket(ctx, groupID, az.ID); err != nil || got.BucketName != "c1c" {
		t.Fatalf("stored Azure bucket: %+v %v", got, err)
	}
	if len(f.access.Checked) != 3 {
		t.Fatalf("access checked for %v, want all three buckets", f.access.Checked)
	}
}

func TestCreateBucketAccessDenied(t *testing.T) {
	f := newFixture(t)
	f.access.Err = atlas.ErrBucketAccessDenied("denied")
	_, err := f.svc.CreateBucket(context.Background(), groupID, service.BucketInput{CloudProvider: "AWS", BucketName: "exports", RoleID: awsRole})
	wantCode(t, "denied bucket", err, atlas.CodeExportBucketAccessDenied)
	if _, total, _ := f.repo.ListBuckets(context.Background(), groupID, "", atlas.FirstPage); total != 0 {
		t.Fatal("a bucket that failed the access check was stored")
	}
}

func TestPrivateNetworkingOnlyOnAWS(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gcp, err := f.svc.CreateBucket(ctx, groupID, service.BucketInput{CloudProvider: "GCP", BucketName: "exports", RoleID: gcpRole})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.SetPrivateNetworking(ctx, groupID, gcp.ID, true)
	wantCode(t, "GCP bucket", err, atlas.CodeInvalidAttribute)
	aws := f.bucket(t)
	if b, err := f.svc.SetPrivateNetworking(ctx, groupID, aws.ID, true); err != nil || !b.RequirePrivateNetworking {
		t.Fatalf("AWS bucket: %+v %v", b, err)
	}
}

func TestDeleteBucketInUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := f.bucket(t)
	sn := f.completedSnapshot(f.rs, t0.Add(-time.Hour))
	job, err := f.svc.CreateExportJob(ctx, atlas.Project{ID: groupID, OrgID: orgID}, f.rs, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "bucket with an active export", f.svc.DeleteBucket(ctx, groupID, b.ID), atlas.CodeExportBucketDeleteFailedBucketInUse)
	f.repo.SetJobState(job.ID, atlas.ExportSuccessful)
	if err := f.svc.DeleteBucket(ctx, groupID, b.ID); err != nil {
		t.Fatalf("bucket whose export finished: %v", err)
	}
	wantCode(t, "deleted bucket", f.svc.DeleteBucket(ctx, groupID, b.ID), atlas.CodeExportBucketNotFound)
	wantCode(t, "malformed id", f.svc.DeleteBucket(ctx, groupID, "x"), atlas.CodeInvalidPathParameter)
}

func TestCreateExportJobRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	project := atlas.Project{ID: groupID, OrgID: orgID}
	b := f.bucket(t)
	created := t0.Add(-90 * time.Second)
	sn := f.completedSnapshot(f.rs, created)
	queued := atlas.NewOnDemandSnapshot(f.rs, "", 1, t0)
	f.repo.AddSnapshot(queued)

	_, err := f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: "x", ExportBucketID: b.ID})
	wantCode(t, "malformed snapshot id", err, atlas.CodeInvalidAttribute)
	_, err = f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: "5a00000000000000000000ff", ExportBucketID: b.ID})
	wantCode(t, "unknown snapshot", err, atlas.CodeSnapshotNotFound)
	_, err = f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: "5b00000000000000000000ff"})
	wantCode(t, "unknown bucket", err, atlas.CodeExportBucketNotFound)
	_, err = f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: queued.ID, ExportBucketID: b.ID})
	wantCode(t, "queued snapshot", err, atlas.CodeInvalidAttribute)
	_, err = f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: b.ID, CustomData: []atlas.Label{{Value: "v"}}})
	wantCode(t, "customData without key", err, atlas.CodeMissingAttribute)

	first, err := f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if want := atlas.ExportPrefix(orgID, groupID, "Cluster0", created, t0); first.State != atlas.ExportQueued || first.Prefix != want {
		t.Fatalf("job %+v, want Queued with prefix %s", first, want)
	}
	_, err = f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: b.ID})
	wantCode(t, "second active export", err, atlas.CodeExportAlreadyInProgress)

	// Another snapshot of the same minute, exported in the same second into
	// the same bucket, must not share the first job's prefix.
	twin := f.completedSnapshot(f.rs, created.Add(time.Second))
	second, err := f.svc.CreateExportJob(ctx, project, f.rs, service.ExportInput{SnapshotID: twin.ID, ExportBucketID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if want := atlas.ExportPrefix(orgID, groupID, "Cluster0", created, t0.Add(time.Second)); second.Prefix != want {
		t.Fatalf("prefix %s, want the next second's %s", second.Prefix, want)
	}
}

func TestShardedExportHasOneComponentPerMember(t *testing.T) {
	f := newFixture(t)
	b := f.bucket(t)
	sn := f.completedSnapshot(f.sh, t0.Add(-time.Hour))
	job, err := f.svc.CreateExportJob(context.Background(), atlas.Project{ID: groupID, OrgID: orgID}, f.sh, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Components) != 3 || job.Components[0].ReplicaSetName != "cfg" || job.Components[2].ReplicaSetName != "shard1" {
		t.Fatalf("components %+v", job.Components)
	}
}

func TestTakeSnapshotRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.TakeSnapshot(ctx, f.rs, "", 3651)
	wantCode(t, "retention over 10 years", err, atlas.CodeInvalidAttribute)
	_, err = f.svc.TakeSnapshot(ctx, f.rs, "", -1)
	wantCode(t, "negative retention", err, atlas.CodeInvalidAttribute)
	sn, err := f.svc.TakeSnapshot(ctx, f.rs, "nightly", 0)
	if err != nil {
		t.Fatal(err)
	}
	if sn.Status != atlas.SnapshotQueued || sn.Kind != atlas.ReplicaSetSnapshot || sn.ReplicaSetName != "rs0" || !sn.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("snapshot %+v, want queued replica-set snapshot of rs0 expiring after the default day", sn)
	}
	_, err = f.svc.TakeSnapshot(ctx, f.rs, "", 1)
	wantCode(t, "second unfinished snapshot", err, atlas.CodeUnfinishedOnDemandSnapshot)
	sh, err := f.svc.TakeSnapshot(ctx, f.sh, "", 2)
	if err != nil {
		t.Fatalf("another cluster's snapshot: %v", err)
	}
	if sh.Kind != atlas.ShardedClusterSnapshot || len(sh.Members) != 3 {
		t.Fatalf("sharded snapshot %+v", sh)
	}
}

func TestUpdateRetentionRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sn := f.completedSnapshot(f.rs, t0.Add(-time.Hour))
	queued := atlas.NewOnDemandSnapshot(f.sh, "", 1, t0)
	f.repo.AddSnapshot(queued)
	_, err := f.svc.UpdateRetention(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, sn.ID, "FORTNIGHTS", 1)
	wantCode(t, "unknown unit", err, atlas.CodeInvalidEnumValue)
	_, err = f.svc.UpdateRetention(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, sn.ID, "DAYS", 0)
	wantCode(t, "zero days", err, atlas.CodeSnapshotRetentionValueInvalid)
	_, err = f.svc.UpdateRetention(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, sn.ID, "YEARS", 11)
	wantCode(t, "eleven years", err, atlas.CodeSnapshotRetentionValueInvalid)
	_, err = f.svc.UpdateRetention(ctx, groupID, "Sharded0", atlas.ShardedClusterSnapshot, queued.ID, "DAYS", 2)
	wantCode(t, "queued snapshot", err, atlas.CodeCannotModifyInProgressSnapshotRetain)
	_, err = f.svc.UpdateRetention(ctx, groupID, "Cluster0", atlas.ShardedClusterSnapshot, sn.ID, "DAYS", 2)
	wantCode(t, "wrong kind", err, atlas.CodeSnapshotNotFound)
	got, err := f.svc.UpdateRetention(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, sn.ID, "WEEKS", 2)
	if err != nil || !got.ExpiresAt.Equal(sn.CreatedAt.Add(14*24*time.Hour)) {
		t.Fatalf("two weeks: %+v %v", got, err)
	}
}

func TestDeleteSnapshotCancelsExportsAndRemovesData(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	queued := atlas.NewOnDemandSnapshot(f.rs, "", 1, t0)
	f.repo.AddSnapshot(queued)
	wantCode(t, "queued snapshot", f.svc.DeleteSnapshot(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, queued.ID), atlas.CodeCannotDeleteInProgressSnapshot)
	wantCode(t, "malformed id", f.svc.DeleteSnapshot(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, "x"), atlas.CodeInvalidSnapshotID)

	b := f.bucket(t)
	sn := f.completedSnapshot(f.rs, t0.Add(-time.Hour))
	job, err := f.svc.CreateExportJob(ctx, atlas.Project{ID: groupID, OrgID: orgID}, f.rs, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteSnapshot(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, sn.ID); err != nil {
		t.Fatal(err)
	}
	if len(f.repo.Cancelled) != 1 || f.repo.Cancelled[0] != job.ID {
		t.Fatalf("cancelled %v, want the active job %s", f.repo.Cancelled, job.ID)
	}
	if len(f.data.Deleted) != 1 || f.data.Deleted[0] != sn.ID {
		t.Fatalf("data deleted for %v, want %s", f.data.Deleted, sn.ID)
	}
	_, err = f.svc.GetSnapshot(ctx, groupID, "Cluster0", atlas.ReplicaSetSnapshot, sn.ID)
	wantCode(t, "deleted snapshot", err, atlas.CodeSnapshotNotFound)
}

func TestExpireSnapshots(t *testing.T) {
	f := newFixture(t)
	old := f.completedSnapshot(f.rs, t0.Add(-48*time.Hour))
	fresh := atlas.NewOnDemandSnapshot(f.sh, "", 5, t0)
	fresh.Status = atlas.SnapshotCompleted
	f.repo.AddSnapshot(fresh)
	n, err := f.svc.ExpireSnapshots(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1", n, err)
	}
	if len(f.data.Deleted) != 1 || f.data.Deleted[0] != old.ID {
		t.Fatalf("data deleted for %v, want only %s", f.data.Deleted, old.ID)
	}
}

// TestRepositoryFailureStaysUnexpected checks that a storage failure is
// not dressed up as an Atlas error (the HTTP layer answers it with 500
// UNEXPECTED_ERROR and logs the cause).
func TestRepositoryFailureStaysUnexpected(t *testing.T) {
	f := newFixture(t)
	outage := errors.New("database is down")
	f.repo.Fail = outage
	_, err := f.svc.GetBucket(context.Background(), groupID, "5b0000000000000000000001")
	var ae *atlas.Error
	if errors.As(err, &ae) || !errors.Is(err, outage) {
		t.Fatalf("got %v, want the wrapped outage and no Atlas error", err)
	}
}
