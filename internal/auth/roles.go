package auth

import (
	"slices"

	"github.com/snapex/snapex/internal/atlas"
)

// operationRoles is THE table of who may call what: each operation and the
// project role it requires, from the spec's x-rolesRequirements (behaviour
// notes §1). A caller holds a role when it was granted directly in the
// project or is implied by another of its roles (see impliedRoles), so
// GROUP_OWNER and ORG_OWNER may call everything in their scope.
var operationRoles = map[atlas.Operation]atlas.Role{
	atlas.OpListExportBuckets:           atlas.GroupReadOnly,
	atlas.OpGetExportBucket:             atlas.GroupReadOnly,
	atlas.OpCreateExportBucket:          atlas.GroupBackupManager,
	atlas.OpDeleteExportBucket:          atlas.GroupBackupManager,
	atlas.OpUpdateBackupExportBucket:    atlas.GroupBackupManager,
	atlas.OpListBackupExports:           atlas.GroupBackupManager,
	atlas.OpGetBackupExport:             atlas.GroupBackupManager,
	atlas.OpCreateBackupExport:          atlas.GroupBackupExportOp,
	atlas.OpCancelBackupExport:          atlas.GroupBackupExportOp, // as creating one
	atlas.OpTakeSnapshots:               atlas.GroupBackupCreator,
	atlas.OpListBackupSnapshots:         atlas.GroupReadOnly,
	atlas.OpGetClusterBackupSnapshot:    atlas.GroupReadOnly,
	atlas.OpUpdateBackupSnapshot:        atlas.GroupBackupManager,
	atlas.OpDeleteClusterBackupSnapshot: atlas.GroupBackupManager,
	atlas.OpListBackupShardedClusters:   atlas.GroupReadOnly,
	atlas.OpGetBackupShardedCluster:     atlas.GroupReadOnly,
	atlas.OpDeleteBackupShardedCluster:  atlas.GroupBackupManager,
	atlas.OpListClusters:                atlas.GroupReadOnly,
	atlas.OpGetCluster:                  atlas.GroupReadOnly,
	atlas.OpGetBackupSchedule:           atlas.GroupReadOnly,
	atlas.OpUpdateBackupSchedule:        atlas.GroupBackupManager,
	atlas.OpDeleteBackupSchedule:        atlas.GroupBackupManager,
	// The restore-job extension takes the roles Atlas asks for its own
	// restore jobs.
	atlas.OpCreateSnapexRestoreJob: atlas.GroupBackupManager,
	atlas.OpCancelSnapexRestoreJob: atlas.GroupBackupManager,
	atlas.OpListSnapexRestoreJobs:  atlas.GroupReadOnly,
	atlas.OpGetSnapexRestoreJob:    atlas.GroupReadOnly,
}

// allGroupRoles lists every project role.
var allGroupRoles = []atlas.Role{
	atlas.GroupOwner, atlas.GroupClusterManager, atlas.GroupDataAccessAdmin, atlas.GroupDataAccessRW,
	atlas.GroupDataAccessRO, atlas.GroupReadOnly, atlas.GroupBackupManager, atlas.GroupBackupCreator,
	atlas.GroupBackupExportOp, atlas.GroupSearchIndexEdit, atlas.GroupStreamProcOwner, atlas.GroupObservability,
}

// impliedRoles is the role hierarchy: the project roles a granted role
// carries in each project of its scope (the project for GROUP_* grants,
// every project of the organization for ORG_* grants).
//
//   - GROUP_OWNER holds every project role.
//   - GROUP_BACKUP_MANAGER also holds GROUP_BACKUP_CREATOR and
//     GROUP_BACKUP_EXPORT_OPERATOR: managing backups includes taking
//     on-demand snapshots and exporting them (Atlas's export page: managing
//     snapshots needs Backup Manager or Owner).
//   - Every project role holds GROUP_READ_ONLY (Atlas user-roles page: "all
//     project roles also grant the privileges of Project Read Only").
//   - ORG_OWNER holds GROUP_OWNER in every project of its organization.
//   - ORG_READ_ONLY holds GROUP_READ_ONLY in every project of its
//     organization.
//   - ORG_MEMBER, ORG_GROUP_CREATOR, ORG_BILLING_ADMIN and
//     ORG_BILLING_READ_ONLY hold no project role: in Atlas they reach only the
//     projects they are added to, with that project's roles. They still make
//     the caller a member of the organization, so a missing project role is
//     "role too low" (USER_UNAUTHORIZED), not "other organization".
var impliedRoles = func() map[atlas.Role][]atlas.Role {
	m := map[atlas.Role][]atlas.Role{
		atlas.GroupOwner:         allGroupRoles,
		atlas.GroupBackupManager: {atlas.GroupBackupManager, atlas.GroupBackupCreator, atlas.GroupBackupExportOp, atlas.GroupReadOnly},
		atlas.OrgOwner:           allGroupRoles,
		atlas.OrgReadOnly:        {atlas.GroupReadOnly},
	}
	for _, r := range allGroupRoles {
		if _, set := m[r]; !set {
			m[r] = []atlas.Role{r, atlas.GroupReadOnly}
		}
	}
	return m
}()

// Operations lists every operation id Authorize knows, sorted.
func Operations() []atlas.Operation {
	out := make([]atlas.Operation, 0, len(operationRoles))
	for op := range operationRoles {
		out = append(out, op)
	}
	slices.Sort(out)
	return out
}

// RequiredRole is the project role an operation requires (held directly or
// through the hierarchy).
func RequiredRole(operation atlas.Operation) (atlas.Role, bool) {
	r, ok := operationRoles[operation]
	return r, ok
}

// Authorize decides whether p may call operation on project (as found in
// the catalog, with its OrgID). It returns nil when allowed, else the
// error to render:
//
//   - 401 UNEXPECTED_ERROR "You are not authorized for this resource." when
//     p holds no role in the project's organization: Atlas answers a key of
//     another organization exactly like a bad key (DOC-AUTH), so other
//     organizations' projects are not revealed;
//   - 401 USER_UNAUTHORIZED "Current user is not authorized to perform this
//     action." when p belongs to the organization but its roles in the
//     project are too low — Atlas's documented code and status for it, as
//     seen in real Atlas responses; the HTTP layer should add Challenge to
//     this 401 as to every other;
//   - 500 UNEXPECTED_ERROR for an operation id missing from the table (a
//     programming error; nothing is allowed by default).
func (a *Authenticator) Authorize(p *Principal, operation atlas.Operation, project atlas.Project) *atlas.Error {
	need, ok := operationRoles[operation]
	if !ok {
		return atlas.ErrUnexpected()
	}
	if p == nil || project.OrgID == "" {
		return atlas.ErrNotAuthenticated()
	}
	member := false
	for _, g := range p.Grants {
		org := g.OrgID
		if g.GroupID != "" {
			pr, found := a.catalog.Project(g.GroupID)
			if !found {
				continue
			}
			org = pr.OrgID
		}
		if org != project.OrgID {
			continue
		}
		member = true
		if g.GroupID != "" && g.GroupID != project.ID {
			continue // a role in a sibling project
		}
		for _, r := range impliedRoles[g.Role] {
			if r == need {
				return nil
			}
		}
	}
	if !member {
		return atlas.ErrNotAuthenticated()
	}
	return atlas.ErrUserUnauthorized()
}
