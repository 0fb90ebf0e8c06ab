package atlas

// Role is an Atlas role name.
type Role string

// Organization roles, granted per organization.
const (
	OrgOwner             Role = "ORG_OWNER"
	OrgProjectCreator    Role = "ORG_GROUP_CREATOR"
	OrgBillingAdmin      Role = "ORG_BILLING_ADMIN"
	OrgBillingReadOnly   Role = "ORG_BILLING_READ_ONLY"
	OrgMember            Role = "ORG_MEMBER"
	OrgReadOnly          Role = "ORG_READ_ONLY"
	GroupOwner           Role = "GROUP_OWNER"
	GroupClusterManager  Role = "GROUP_CLUSTER_MANAGER"
	GroupDataAccessAdmin Role = "GROUP_DATA_ACCESS_ADMIN"
	GroupDataAccessRW    Role = "GROUP_DATA_ACCESS_READ_WRITE"
	GroupDataAccessRO    Role = "GROUP_DATA_ACCESS_READ_ONLY"
	GroupReadOnly        Role = "GROUP_READ_ONLY"
	GroupBackupManager   Role = "GROUP_BACKUP_MANAGER"
	GroupBackupCreator   Role = "GROUP_BACKUP_CREATOR"
	GroupBackupExportOp  Role = "GROUP_BACKUP_EXPORT_OPERATOR"
	GroupSearchIndexEdit Role = "GROUP_SEARCH_INDEX_EDITOR"
	GroupStreamProcOwner Role = "GROUP_STREAM_PROCESSING_OWNER"
	GroupObservability   Role = "GROUP_OBSERVABILITY_VIEWER"
)

// OrgScoped reports whether r is granted per organization (ORG_*); other
// known roles are granted per project.
func (r Role) OrgScoped() bool { return len(r) > 4 && r[:4] == "ORG_" }

// KnownRole reports whether r is an Atlas role snapex understands.
func KnownRole(r Role) bool {
	switch r {
	case OrgOwner, OrgProjectCreator, OrgBillingAdmin, OrgBillingReadOnly, OrgMember, OrgReadOnly,
		GroupOwner, GroupClusterManager, GroupDataAccessAdmin, GroupDataAccessRW, GroupDataAccessRO,
		GroupReadOnly, GroupBackupManager, GroupBackupCreator, GroupBackupExportOp,
		GroupSearchIndexEdit, GroupStreamProcOwner, GroupObservability:
		return true
	}
	return false
}
