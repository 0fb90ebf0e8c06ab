package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

const (
	orgID     = "a0000000000000000000000a"
	groupID   = "100000000000000000000001"
	awsRole   = "c00000000000000000000001"
	azureRole = "c00000000000000000000002"
	gcpRole   = "c00000000000000000000003"
	pubKey    = "abcdefgh"
	privKey   = "0b6b2c4e-0a5a-4a0e-9c3e-1f0e5d7c9a11"
	saID      = "mdb_sa_id_100000000000000000000001"
	saSecret  = "mdb_sa_sk_e2e-secret"
)

const apiConfig = `
database: snapex.db
organizations:
  - id: ` + orgID + `
    name: E2E Org
    projects:
      - id: ` + groupID + `
        name: E2E Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
          - name: Sharded0
            type: SHARDED
            replicaSets:
              - {name: shard0, uri: "mongodb://127.0.0.1:1"}
              - {name: configRS, uri: "mongodb://127.0.0.1:1", configServer: true}
        accessRoles:
          - {id: ` + awsRole + `, provider: AWS, local: {directory: buckets/aws}}
          - {id: ` + azureRole + `, provider: AZURE, local: {directory: buckets/azure}}
          - {id: ` + gcpRole + `, provider: GCP, local: {directory: buckets/gcp}}
apiKeys:
  - publicKey: ` + pubKey + `
    privateKey: file:secrets/key
    roles: [{role: ORG_OWNER, orgId: ` + orgID + `}]
serviceAccounts:
  - clientId: ` + saID + `
    clientSecret: file:secrets/sa
    roles: [{role: GROUP_OWNER, groupId: ` + groupID + `}]
`

// insertSnapshot adds a completed snapshot row to the server's database
// (taking snapshots through the API is a later feature).
func insertSnapshot(t *testing.T, dir, cluster string, kind atlas.SnapshotKind, members ...string) *atlas.Snapshot {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "snapex.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	sn := &atlas.Snapshot{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, ClusterName: cluster, Kind: kind,
		Status: atlas.SnapshotCompleted, SnapshotType: "onDemand", FrequencyType: "ondemand", MongodVersion: "7.0.14",
		CreatedAt: at, ExpiresAt: at.Add(48 * time.Hour), ReplicaSetName: "rs0"}
	for _, m := range members {
		sn.Members = append(sn.Members, atlas.SnapshotMember{ID: atlas.NewObjectID(time.Now()), ReplicaSetName: m})
	}
	if err := st.CreateSnapshot(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	return sn
}

func TestSDKDrivesEveryRoute(t *testing.T) {
	dir := t.TempDir()
	writeSecrets(t, dir, map[string]string{"key": privKey, "sa": saSecret})
	srv := startServer(t, dir, apiConfig)
	ctx := context.Background()

	for name, c := range map[string]*admin.APIClient{
		"digest": digestClient(t, srv.url, pubKey, privKey),
		"oauth":  oauthClient(t, srv.url, saID, saSecret),
	} {
		t.Run(name, func(t *testing.T) {
			api := c.CloudBackupsApi
			clusters := val(c.ClustersApi.ListClusters(ctx, groupID).Execute()).get(t)
			if clusters.GetTotalCount() != 2 {
				t.Fatalf("clusters: %d", clusters.GetTotalCount())
			}
			cl := val(c.ClustersApi.GetCluster(ctx, groupID, "Sharded0").Execute()).get(t)
			if cl.GetClusterType() != "SHARDED" || cl.GetStateName() != "IDLE" || !cl.GetBackupEnabled() {
				t.Fatalf("cluster: %+v", cl)
			}

			ids := map[string]string{}
			for provider, req := range map[string]*admin.DiskBackupSnapshotExportBucketRequest{
				"AWS":   {CloudProvider: "AWS", BucketName: admin.PtrString("sdk-aws-" + name), IamRoleId: admin.PtrString(awsRole)},
				"AZURE": {CloudProvider: "AZURE", RoleId: admin.PtrString(azureRole), ServiceUrl: admin.PtrString("https://acct.blob.core.windows.net/sdk-azure-" + name)},
				"GCP":   {CloudProvider: "GCP", BucketName: admin.PtrString("sdk-gcp-" + name), RoleId: admin.PtrString(gcpRole)},
			} {
				b := val(api.CreateExportBucket(ctx, groupID, req).Execute()).get(t)
				if b.GetCloudProvider() != provider || !atlas.ValidObjectID(b.GetId()) {
					t.Fatalf("%s bucket: %+v", provider, b)
				}
				ids[provider] = b.GetId()
				got := val(api.GetExportBucket(ctx, groupID, b.GetId()).Execute()).get(t)
				if got.GetBucketName() != b.GetBucketName() {
					t.Fatalf("get %s: %+v", provider, got)
				}
			}
			list := val(api.ListExportBuckets(ctx, groupID).ItemsPerPage(2).PageNum(1).IncludeCount(true).Execute()).get(t)
			if list.GetTotalCount() < 3 || len(list.GetResults()) != 2 {
				t.Fatalf("bucket list: %d total, %d results", list.GetTotalCount(), len(list.GetResults()))
			}
			upd := val(api.UpdateBackupExportBucket(ctx, groupID, ids["AWS"], &admin.UpdateRequirePrivateNetworkingRequest{RequirePrivateNetworking: true}).Execute()).get(t)
			if !upd.GetRequirePrivateNetworking() {
				t.Fatalf("patch: %+v", upd)
			}

			snap := insertSnapshot(t, dir, "Cluster0", atlas.ReplicaSetSnapshot)
			snaps := val(api.ListBackupSnapshots(ctx, groupID, "Cluster0").Execute()).get(t)
			if snaps.GetTotalCount() < 1 {
				t.Fatal("no snapshots listed")
			}
			gotSnap := val(api.GetClusterBackupSnapshot(ctx, groupID, "Cluster0", snap.ID).Execute()).get(t)
			if gotSnap.GetStatus() != "completed" || gotSnap.GetReplicaSetName() != "rs0" {
				t.Fatalf("snapshot: %+v", gotSnap)
			}
			sharded := insertSnapshot(t, dir, "Sharded0", atlas.ShardedClusterSnapshot, "shard0", "configRS")
			shList := val(api.ListBackupShardedClusters(ctx, groupID, "Sharded0").Execute()).get(t)
			if shList.GetTotalCount() < 1 {
				t.Fatal("no sharded snapshots")
			}
			shOne := val(api.GetBackupShardedCluster(ctx, groupID, "Sharded0", sharded.ID).Execute()).get(t)
			if len(shOne.GetMembers()) != 2 {
				t.Fatalf("members: %+v", shOne.GetMembers())
			}

			custom := []admin.BackupLabel{{Key: admin.PtrString("team"), Value: admin.PtrString("data")}}
			job := val(api.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
				SnapshotId: snap.ID, ExportBucketId: ids["AWS"], CustomData: &custom}).Execute()).get(t)
			wantPrefix := fmt.Sprintf("exported_snapshots/%s/%s/Cluster0/2026-08-10T0327/%d", orgID, groupID, job.GetCreatedAt().Unix())
			if job.GetState() != "Queued" || job.GetPrefix() != wantPrefix || len(job.GetCustomData()) != 1 {
				t.Fatalf("job: %+v", job)
			}
			// The workers may finish the first job at once (its snapshot has
			// no data, so it fails fast): a second export is refused only
			// while the first is active.
			_, _, err := api.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
				SnapshotId: snap.ID, ExportBucketId: ids["GCP"]}).Execute()
			if err == nil {
				requireTerminal(t, api, "Cluster0", job.GetId())
			} else if !admin.IsErrorCode(err, "EXPORT_ALREADY_IN_PROGRESS") {
				t.Fatalf("second active export: %v", describe(err))
			}
			again := val(api.GetBackupExport(ctx, groupID, "Cluster0", job.GetId()).Execute()).get(t)
			if again.GetId() != job.GetId() {
				t.Fatalf("get job: %+v", again)
			}
			jobs := val(api.ListBackupExports(ctx, groupID, "Cluster0").Execute()).get(t)
			if jobs.GetTotalCount() < 1 {
				t.Fatal("no jobs listed")
			}
			shJob := val(api.CreateBackupExport(ctx, groupID, "Sharded0", &admin.DiskBackupExportJobRequest{
				SnapshotId: sharded.ID, ExportBucketId: ids["GCP"]}).Execute()).get(t)
			if len(shJob.GetComponents()) != 2 {
				t.Fatalf("components: %+v", shJob.GetComponents())
			}

			if _, err := api.DeleteExportBucket(ctx, groupID, ids["AWS"]).Execute(); err == nil {
				requireTerminal(t, api, "Cluster0", job.GetId())
			} else if !admin.IsErrorCode(err, "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE") {
				t.Fatalf("delete bucket in use: %v", describe(err))
			}
			resp, err := api.DeleteExportBucket(ctx, groupID, ids["AZURE"]).Execute()
			if err != nil || resp.StatusCode != http.StatusNoContent {
				t.Fatalf("delete: %v %v", resp, err)
			}
			_, _, err = api.GetExportBucket(ctx, groupID, ids["AZURE"]).Execute()
			if !admin.IsErrorCode(err, "EXPORT_BUCKET_NOT_FOUND") {
				t.Fatalf("deleted bucket: %v", err)
			}
			_, _, err = api.GetBackupExport(ctx, groupID, "NoCluster", job.GetId()).Execute()
			if !admin.IsErrorCode(err, "CLUSTER_NOT_FOUND") {
				t.Fatalf("unknown cluster: %v", err)
			}
			_, _, err = api.ListExportBuckets(ctx, "111111111111111111111111").Execute()
			if !admin.IsErrorCode(err, "GROUP_NOT_FOUND") {
				t.Fatalf("unknown group: %v", err)
			}
			_, _, err = api.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "bogus"}).Execute()
			if !admin.IsErrorCode(err, "INVALID_PROVIDER") {
				t.Fatalf("bogus provider: %v", err)
			}
		})
	}
}

func TestSDKRejectsWrongCredentials(t *testing.T) {
	dir := t.TempDir()
	writeSecrets(t, dir, map[string]string{"key": privKey, "sa": saSecret})
	srv := startServer(t, dir, apiConfig)
	ctx := context.Background()
	_, _, err := digestClient(t, srv.url, pubKey, "wrong-secret").CloudBackupsApi.ListExportBuckets(ctx, groupID).Execute()
	if apiErr, ok := admin.AsError(err); !ok || apiErr.GetError() != 401 {
		t.Fatalf("wrong private key: %v", err)
	}
	_, _, err = oauthClient(t, srv.url, saID, "wrong").CloudBackupsApi.ListExportBuckets(ctx, groupID).Execute()
	if err == nil {
		t.Fatal("wrong client secret accepted")
	}
}

// requireTerminal fails unless the export job has ended: an operation
// refused while a job is active may only succeed once it is over.
func requireTerminal(t *testing.T, api admin.CloudBackupsApi, cluster, id string) {
	t.Helper()
	j := val(api.GetBackupExport(context.Background(), groupID, cluster, id).Execute()).get(t)
	switch j.GetState() {
	case "Successful", "Failed", "Cancelled":
	default:
		t.Fatalf("an operation meant for finished jobs succeeded while job %s is %s", id, j.GetState())
	}
}
