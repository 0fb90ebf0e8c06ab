package auth

import (
	"net/http"
	"slices"
	"testing"

	"github.com/snapex/snapex/internal/atlas"
)

// The expectations below are written out independently of operationRoles,
// from the behaviour notes §1 and the role hierarchy documented in roles.go.
var (
	readOps = []atlas.Operation{
		atlas.OpListExportBuckets, atlas.OpGetExportBucket, atlas.OpListBackupSnapshots, atlas.OpGetClusterBackupSnapshot,
		atlas.OpListBackupShardedClusters, atlas.OpGetBackupShardedCluster, atlas.OpListClusters, atlas.OpGetCluster,
		atlas.OpGetBackupSchedule, // Project Read Only (spec x-rolesRequirements)
		atlas.OpListSnapexRestoreJobs, atlas.OpGetSnapexRestoreJob,
	}
	allOps = []atlas.Operation{
		atlas.OpListExportBuckets, atlas.OpCreateExportBucket, atlas.OpGetExportBucket, atlas.OpDeleteExportBucket, atlas.OpUpdateBackupExportBucket,
		atlas.OpListBackupExports, atlas.OpCreateBackupExport, atlas.OpGetBackupExport, atlas.OpTakeSnapshots, atlas.OpListBackupSnapshots,
		atlas.OpGetClusterBackupSnapshot, atlas.OpUpdateBackupSnapshot, atlas.OpDeleteClusterBackupSnapshot, atlas.OpListBackupShardedClusters,
		atlas.OpGetBackupShardedCluster, atlas.OpDeleteBackupShardedCluster, atlas.OpListClusters, atlas.OpGetCluster,
		atlas.OpCancelBackupExport,
		atlas.OpGetBackupSchedule, atlas.OpUpdateBackupSchedule, atlas.OpDeleteBackupSchedule, // update/delete: Project Backup Manager
		atlas.OpCreateSnapexRestoreJob, atlas.OpListSnapexRestoreJobs, atlas.OpGetSnapexRestoreJob, atlas.OpCancelSnapexRestoreJob,
	}
	// allowedOps is what each role may call in a project within its scope.
	allowedOps = map[atlas.Role][]atlas.Operation{
		atlas.OrgOwner:             allOps,
		atlas.OrgReadOnly:          readOps,
		atlas.OrgProjectCreator:    nil,
		atlas.OrgBillingAdmin:      nil,
		atlas.OrgBillingReadOnly:   nil,
		atlas.OrgMember:            nil,
		atlas.GroupOwner:           allOps,
		atlas.GroupBackupManager:   allOps,
		atlas.GroupBackupExportOp:  append(slices.Clone(readOps), atlas.OpCreateBackupExport, atlas.OpCancelBackupExport),
		atlas.GroupBackupCreator:   append(slices.Clone(readOps), atlas.OpTakeSnapshots),
		atlas.GroupReadOnly:        readOps,
		atlas.GroupClusterManager:  readOps,
		atlas.GroupDataAccessAdmin: readOps,
		atlas.GroupDataAccessRW:    readOps,
		atlas.GroupDataAccessRO:    readOps,
		atlas.GroupSearchIndexEdit: readOps,
		atlas.GroupStreamProcOwner: readOps,
		atlas.GroupObservability:   readOps,
	}
)

func TestOperationsListsTheSDKMethods(t *testing.T) {
	got := Operations()
	want := slices.Clone(allOps)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Operations() = %v\nwant %v", got, want)
	}
	got[0] = "mutated"
	if Operations()[0] == "mutated" {
		t.Fatal("Operations returns the internal slice")
	}
	for _, op := range got[1:] {
		if _, ok := RequiredRole(op); !ok {
			t.Errorf("no required role for %s", op)
		}
	}
}

func TestEveryRoleIsCovered(t *testing.T) {
	for _, r := range append(slices.Clone(allGroupRoles), atlas.OrgOwner, atlas.OrgReadOnly, atlas.OrgMember,
		atlas.OrgProjectCreator, atlas.OrgBillingAdmin, atlas.OrgBillingReadOnly) {
		if !atlas.KnownRole(r) {
			t.Errorf("%s is not an atlas role", r)
		}
		if _, ok := allowedOps[r]; !ok {
			t.Errorf("the authorization matrix misses role %s", r)
		}
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	a := e.a
	catalog := e.cfg.Catalog()
	project := func(id string) atlas.Project {
		p, ok := catalog.Project(id)
		if !ok {
			t.Fatalf("no project %s", id)
		}
		return p
	}
	a1, a2, b1 := project(projA1), project(projA2), project(projB1)
	for role, allowed := range allowedOps {
		grant := Grant{Role: role, GroupID: projA1}
		if role.OrgScoped() {
			grant = Grant{Role: role, OrgID: orgA}
		}
		p := &Principal{Kind: KindAPIKey, ID: "matrixkey", Grants: []Grant{grant}}
		for _, op := range Operations() {
			ok := slices.Contains(allowed, op)
			// The granted project (or any project of the granted org).
			checkDecision(t, role, op, "own project", a.Authorize(p, op, a1), ok)
			// A sibling project of the same organization: org roles reach
			// it, project roles do not (but the caller is a member of the
			// organization, so the denial is "role too low").
			checkDecision(t, role, op, "sibling project", a.Authorize(p, op, a2), ok && role.OrgScoped())
			// Another organization's project: the bad-credentials 401.
			if err := a.Authorize(p, op, b1); !isNotAuthenticated(err) {
				t.Errorf("%s %s on another org's project: %+v, want 401 UNEXPECTED_ERROR", role, op, err)
			}
		}
	}
}

func checkDecision(t *testing.T, role atlas.Role, op atlas.Operation, where string, err *atlas.Error, allowed bool) {
	t.Helper()
	switch {
	case allowed && err != nil:
		t.Errorf("%s %s on %s: denied with %+v, want allowed", role, op, where, err)
	case !allowed && (err == nil || err.Status != http.StatusUnauthorized || err.Code != "USER_UNAUTHORIZED" ||
		err.Detail != "Current user is not authorized to perform this action." || err.Params == nil || len(err.Params) != 0):
		t.Errorf("%s %s on %s: %+v, want 401 USER_UNAUTHORIZED", role, op, where, err)
	}
}

func isNotAuthenticated(err *atlas.Error) bool {
	return err != nil && err.Status == http.StatusUnauthorized && err.Code == "UNEXPECTED_ERROR" &&
		err.Detail == "You are not authorized for this resource." && err.Params == nil
}

func TestAuthorizeEdgeCases(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	a := e.a
	a1, _ := e.cfg.Catalog().Project(projA1)
	owner := &Principal{Kind: KindAPIKey, ID: "x", Grants: []Grant{{Role: atlas.GroupOwner, GroupID: projA1}}}
	if err := a.Authorize(owner, "noSuchOperation", a1); err == nil || err.Status != http.StatusInternalServerError {
		t.Fatalf("unknown operation: %+v, want 500", err)
	}
	if err := a.Authorize(nil, atlas.OpListClusters, a1); !isNotAuthenticated(err) {
		t.Fatalf("nil principal: %+v", err)
	}
	if err := a.Authorize(owner, atlas.OpListClusters, atlas.Project{ID: projA1}); !isNotAuthenticated(err) {
		t.Fatalf("project without org: %+v", err)
	}
	// A grant on a project missing from the catalog counts for nothing.
	ghost := &Principal{Kind: KindAPIKey, ID: "x", Grants: []Grant{{Role: atlas.GroupOwner, GroupID: "0f0000000000000000000000"}}}
	if err := a.Authorize(ghost, atlas.OpListClusters, a1); !isNotAuthenticated(err) {
		t.Fatalf("ghost grant: %+v", err)
	}
	// Several grants combine: read-only in the org plus creator in A1.
	combo := &Principal{Kind: KindAPIKey, ID: "x", Grants: []Grant{{Role: atlas.OrgReadOnly, OrgID: orgA}, {Role: atlas.GroupBackupCreator, GroupID: projA1}}}
	if err := a.Authorize(combo, atlas.OpTakeSnapshots, a1); err != nil {
		t.Fatalf("combined grants: %+v", err)
	}
	if err := a.Authorize(combo, atlas.OpCreateBackupExport, a1); err == nil || err.Code != "USER_UNAUTHORIZED" {
		t.Fatalf("combined grants, export: %+v", err)
	}
	// Authenticate returns a copy: changing it grants nothing.
	k := keyByName(t, "readonly")
	req, _ := http.NewRequest(http.MethodGet, clustersURL(e, projA1), nil)
	resp, _, _ := do(t, clients["mongodb-forks"](k.public, k.private), req)
	resp.Body.Close()
	p := a.keys["readonly"].principal.clone()
	p.Grants[0].Role = atlas.GroupOwner
	if a.keys["readonly"].principal.Grants[0].Role != atlas.GroupReadOnly {
		t.Fatal("clone shares grants with the configured principal")
	}
}
