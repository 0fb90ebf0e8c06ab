package service_test

import (
	"context"
	"testing"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/restorejob"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/servicetest"
)

// exportJob stores an export job of Cluster0 and moves it to state.
func (f *fixture) exportJob(t *testing.T, state atlas.ExportState) string {
	t.Helper()
	ctx := context.Background()
	b := f.bucket(t)
	sn := f.completedSnapshot(f.rs, t0)
	j, err := f.svc.CreateExportJob(ctx, atlas.Project{ID: groupID, OrgID: orgID}, f.rs, service.ExportInput{SnapshotID: sn.ID, ExportBucketID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.repo.SetJobState(j.ID, state)
	return j.ID
}

func TestCreateRestoreJobRules(t *testing.T) {
	ctx := context.Background()
	project := atlas.Project{ID: groupID, OrgID: orgID}
	f := newFixture(t)
	restores := &servicetest.Restores{}
	f.svc.Restores, f.svc.Namespaces = restores, restorejob.NamespaceChecker{}
	done := f.exportJob(t, atlas.ExportSuccessful)

	j, err := f.svc.CreateRestoreJob(ctx, project, f.rs, service.RestoreInput{ExportJobID: done, TargetClusterName: "Cluster0",
		Options: atlas.RestoreOptions{NsFrom: []string{"$db$.$coll$"}, NsTo: []string{"copy_$db$.$coll$"}}})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != atlas.ExportQueued || j.Options.Duplicates != atlas.DuplicatesFail || !j.CreatedAt.Equal(t0) || j.ExportJobID != done {
		t.Fatalf("created: %+v", j)
	}
	if got, err := f.svc.GetRestoreJob(ctx, groupID, "Cluster0", j.ID); err != nil || got.ID != j.ID {
		t.Fatalf("get: %+v %v", got, err)
	}
	wantCode(t, "another cluster's job", func() error { _, err := f.svc.GetRestoreJob(ctx, groupID, "Sharded0", j.ID); return err }(), atlas.CodeResourceNotFound)

	url := service.RestoreInput{SourceURL: "gs://exports/exported_snapshots/x", SourceRoleID: gcpRole, TargetClusterName: "Cluster0"}
	if j2, err := f.svc.CreateRestoreJob(ctx, project, f.rs, url); err != nil || j2.SourceURL != url.SourceURL || j2.ExportJobID != "" {
		t.Fatalf("url source: %+v %v", j2, err)
	}
	if _, total, _ := f.svc.ListRestoreJobs(ctx, groupID, "Cluster0", atlas.FirstPage); total != 2 {
		t.Fatalf("list total %d, want 2", total)
	}

	queued := f.exportJob(t, atlas.ExportInProgress)
	for name, c := range map[string]struct {
		in   service.RestoreInput
		code atlas.Code
	}{
		"unfinished export": {service.RestoreInput{ExportJobID: queued, TargetClusterName: "Cluster0"}, atlas.CodeInvalidAttribute},
		"unknown export":    {service.RestoreInput{ExportJobID: "5a00000000000000000000ff", TargetClusterName: "Cluster0"}, atlas.CodeResourceNotFound},
		"unknown target":    {service.RestoreInput{ExportJobID: done, TargetClusterName: "Nope"}, atlas.CodeClusterNotFound},
		"rename and db":     {service.RestoreInput{ExportJobID: done, TargetClusterName: "Cluster0", TargetDatabaseName: "x", Options: atlas.RestoreOptions{NsFrom: []string{"a.b"}, NsTo: []string{"c.d"}}}, atlas.CodeInvalidAttribute},
		"to unknown var":    {service.RestoreInput{ExportJobID: done, TargetClusterName: "Cluster0", Options: atlas.RestoreOptions{NsFrom: []string{"a.*"}, NsTo: []string{"$x$.b"}}}, atlas.CodeInvalidAttribute},
		"azure endpoint":    {service.RestoreInput{SourceURL: "azure://c/p?serviceUrl=http://x", SourceRoleID: azureRole, TargetClusterName: "Cluster0"}, atlas.CodeInvalidAttribute},
	} {
		if _, err := f.svc.CreateRestoreJob(ctx, project, f.rs, c.in); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			wantCode(t, name, err, c.code)
		}
	}

	if c, err := f.svc.CancelRestoreJob(ctx, groupID, "Cluster0", j.ID); err != nil || c.State != atlas.ExportCancelled {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	_, err = f.svc.CancelRestoreJob(ctx, groupID, "Cluster0", j.ID)
	wantCode(t, "cancel twice", err, atlas.CodeRestoreJobAlreadyFinished)
}
