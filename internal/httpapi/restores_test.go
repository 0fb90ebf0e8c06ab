package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/httpapi"
	"github.com/snapex/snapex/internal/restorejob"
	"github.com/snapex/snapex/internal/service/storerepo"
)

// newRestoreEnv is the API with the restore-job extension over the store
// and no workers: a job stays Queued until cancelled.
func newRestoreEnv(t *testing.T) *env {
	return newEnvWith(t, "sqlite", func(s *httpapi.Server) {
		s.Service.Restores = &storerepo.Restores{Store: s.Service.Repo.(*storerepo.Repo).Store}
		s.Service.Namespaces = restorejob.NamespaceChecker{}
	})
}

// exportJob creates an export job of Cluster0 and moves it to state.
func (e *env) exportJob(state atlas.ExportState) string {
	e.t.Helper()
	bucketID := e.newAWSBucket("exports-" + strings.ToLower(string(state)))
	snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0.Add(time.Duration(len(state))*time.Minute))
	r := e.do("POST", groupPath(groupP1)+"/clusters/Cluster0/backup/exports", "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
	e.expect(r, 200, "")
	if state != atlas.ExportQueued {
		for _, s := range []atlas.ExportState{atlas.ExportInProgress, state} {
			if _, err := e.store.UpdateExportJob(context.Background(), r.str("id"), func(j *atlas.ExportJob) error {
				now := time.Now()
				j.State, j.FinishedAt = s, &now
				return nil
			}); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	return r.str("id")
}

const restoresPath = "/clusters/Cluster0/backup/snapexRestoreJobs"

func TestRestoreJobValidation(t *testing.T) {
	e := newRestoreEnv(t)
	done := e.exportJob(atlas.ExportSuccessful)
	queued := e.exportJob(atlas.ExportQueued)
	base := groupPath(groupP1) + restoresPath
	ok := func(extra map[string]any) map[string]any {
		b := map[string]any{"exportJobId": done, "targetClusterName": "Cluster0", "nsFrom": []string{"app.*"}, "nsTo": []string{"copy.*"}}
		for k, v := range extra {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"unknown export job", ok(map[string]any{"exportJobId": "ffffffffffffffffffffffff"}), 404, "RESOURCE_NOT_FOUND", ""},
		{"malformed export job id", ok(map[string]any{"exportJobId": "nope"}), 400, "INVALID_ATTRIBUTE", "exportJobId"},
		{"export not finished", ok(map[string]any{"exportJobId": queued}), 400, "INVALID_ATTRIBUTE", "exportJobId"},
		{"no source", ok(map[string]any{"exportJobId": nil}), 400, "MISSING_ATTRIBUTE", "exportJobId"},
		{"both sources", ok(map[string]any{"sourceUrl": "s3://b/p", "sourceRoleId": awsRole}), 400, "INVALID_ATTRIBUTE", "exportJobId"},
		{"url without role", ok(map[string]any{"exportJobId": nil, "sourceUrl": "s3://b/p"}), 400, "MISSING_ATTRIBUTE", "sourceRoleId"},
		{"file url", ok(map[string]any{"exportJobId": nil, "sourceUrl": "file:///etc", "sourceRoleId": awsRole}), 400, "INVALID_ATTRIBUTE", "sourceUrl"},
		{"url with endpoint", ok(map[string]any{"exportJobId": nil, "sourceUrl": "s3://b/p?endpoint=http://169.254.169.254", "sourceRoleId": awsRole}), 400, "INVALID_ATTRIBUTE", "sourceUrl"},
		{"unknown role", ok(map[string]any{"exportJobId": nil, "sourceUrl": "s3://b/p", "sourceRoleId": "ffffffffffffffffffffffff"}), 400, "INVALID_ATTRIBUTE", "sourceRoleId"},
		{"no target", ok(map[string]any{"targetClusterName": nil}), 400, "MISSING_ATTRIBUTE", "targetClusterName"},
		{"unknown target", ok(map[string]any{"targetClusterName": "Nowhere"}), 404, "CLUSTER_NOT_FOUND", "Nowhere"},
		{"sharded target", ok(map[string]any{"targetClusterName": "Sharded0"}), 400, "INVALID_ATTRIBUTE", "targetClusterName"},
		{"connection string", ok(map[string]any{"targetUri": "mongodb://evil"}), 400, "INVALID_ATTRIBUTE", "targetUri"},
		{"bad duplicates", ok(map[string]any{"duplicates": "maybe"}), 400, "INVALID_ENUM_VALUE", "duplicates"},
		{"unpaired nsTo", ok(map[string]any{"nsTo": []string{"a.*", "b.*"}}), 400, "INVALID_ATTRIBUTE", "nsTo"},
		{"unclosed variable", ok(map[string]any{"nsFrom": []string{"$db.*"}}), 400, "INVALID_ATTRIBUTE", "nsFrom"},
		{"bad include", ok(map[string]any{"nsInclude": []string{`app\`}}), 400, "INVALID_ATTRIBUTE", "nsInclude"},
		{"nsInclude not strings", ok(map[string]any{"nsInclude": "app.*"}), 400, "INVALID_JSON_ATTRIBUTE", "nsInclude"},
		{"bad database name", ok(map[string]any{"nsFrom": nil, "nsTo": nil, "targetDatabaseName": "a.b"}), 400, "INVALID_ATTRIBUTE", "targetDatabaseName"},
		{"admin database", ok(map[string]any{"nsFrom": nil, "nsTo": nil, "targetDatabaseName": "admin"}), 400, "INVALID_ATTRIBUTE", "targetDatabaseName"},
		{"database and rename", ok(map[string]any{"targetDatabaseName": "copy"}), 400, "INVALID_ATTRIBUTE", "targetDatabaseName"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", base, "2023-01-01", c.body)
			e.expect(r, c.status, c.code)
			if c.field != "" {
				params, _ := r.body["parameters"].([]any)
				if len(params) == 0 || params[0] != c.field {
					t.Fatalf("error must name %s: %s", c.field, r.raw)
				}
			}
		})
	}
	list := e.do("GET", base, "2023-01-01", nil)
	e.expect(list, 200, "")
	if list.body["totalCount"] != 0.0 {
		t.Fatalf("refused requests must store nothing: %s", list.raw)
	}
}

func TestRestoreJobLifecycleAndRoles(t *testing.T) {
	e := newRestoreEnv(t)
	done := e.exportJob(atlas.ExportSuccessful)
	base := groupPath(groupP1) + restoresPath
	body := map[string]any{"exportJobId": done, "targetClusterName": "Cluster0", "targetDatabaseName": "copy", "drop": true, "duplicates": "skip"}

	e.expect(e.doAs(readKey, readPriv, "POST", base, "2023-01-01", body), 401, "USER_UNAUTHORIZED")
	r := e.do("POST", base, "2023-01-01", body)
	e.expect(r, 202, "")
	id := r.str("id")
	if !atlas.ValidObjectID(id) || r.str("state") != "Queued" || r.str("exportJobId") != done || r.str("targetDatabaseName") != "copy" ||
		r.body["drop"] != true || r.str("duplicates") != "skip" || r.str("targetClusterName") != "Cluster0" {
		t.Fatalf("create: %s", r.raw)
	}
	if p, _ := r.body["progress"].(map[string]any); p == nil || p["documentsRestored"] != 0.0 {
		t.Fatalf("progress: %s", r.raw)
	}

	got := e.doAs(readKey, readPriv, "GET", base+"/"+id, "2023-01-01", nil)
	e.expect(got, 200, "")
	if got.str("id") != id || got.str("createdAt") != r.str("createdAt") {
		t.Fatalf("get: %s", got.raw)
	}
	list := e.doAs(readKey, readPriv, "GET", base+"?itemsPerPage=1", "2023-01-01", nil)
	e.expect(list, 200, "")
	if res, _ := list.body["results"].([]any); list.body["totalCount"] != 1.0 || len(res) != 1 {
		t.Fatalf("list: %s", list.raw)
	}
	e.expect(e.do("GET", groupPath(groupP1)+"/clusters/Sharded0/backup/snapexRestoreJobs/"+id, "2023-01-01", nil), 404, "RESOURCE_NOT_FOUND")
	e.expect(e.do("GET", base+"/ffffffffffffffffffffffff", "2023-01-01", nil), 404, "RESOURCE_NOT_FOUND")
	e.expect(e.do("GET", base+"/nope", "2023-01-01", nil), 400, "INVALID_PATH_PARAMETER")
	e.expect(e.doAs(orgBKey, orgBPriv, "GET", base+"/"+id, "2023-01-01", nil), 401, "")

	e.expect(e.doAs(readKey, readPriv, "DELETE", base+"/"+id, "2023-01-01", nil), 401, "USER_UNAUTHORIZED")
	c := e.do("DELETE", base+"/"+id, "2023-01-01", nil)
	e.expect(c, 202, "")
	if c.str("state") != "Cancelled" || c.str("finishedAt") == "" {
		t.Fatalf("a queued job nobody holds is cancelled at once: %s", c.raw)
	}
	e.expect(e.do("DELETE", base+"/"+id, "2023-01-01", nil), 409, "RESTORE_JOB_ALREADY_FINISHED")
}
