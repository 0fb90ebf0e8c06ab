package atlas

// Operation is an API operation id: the Atlas Go SDK method name (lower
// camel case) of an operation snapex serves. The route table and the role
// table both key on these constants, so a misspelt id fails to compile.
type Operation string

// Operations snapex serves.
const (
	OpListExportBuckets           Operation = "listExportBuckets"
	OpCreateExportBucket          Operation = "createExportBucket"
	OpGetExportBucket             Operation = "getExportBucket"
	OpDeleteExportBucket          Operation = "deleteExportBucket"
	OpUpdateBackupExportBucket    Operation = "updateBackupExportBucket"
	OpListBackupExports           Operation = "listBackupExports"
	OpCreateBackupExport          Operation = "createBackupExport"
	OpGetBackupExport             Operation = "getBackupExport"
	OpTakeSnapshots               Operation = "takeSnapshots"
	OpListBackupSnapshots         Operation = "listBackupSnapshots"
	OpGetClusterBackupSnapshot    Operation = "getClusterBackupSnapshot"
	OpUpdateBackupSnapshot        Operation = "updateBackupSnapshot"
	OpDeleteClusterBackupSnapshot Operation = "deleteClusterBackupSnapshot"
	OpListBackupShardedClusters   Operation = "listBackupShardedClusters"
	OpGetBackupShardedCluster     Operation = "getBackupShardedCluster"
	OpDeleteBackupShardedCluster  Operation = "deleteBackupShardedCluster"
	OpListClusters                Operation = "listClusters"
	OpGetCluster                  Operation = "getCluster"
	// OpCancelBackupExport is snapex's extension (DELETE on an export job);
	// Atlas has no such operation.
	OpCancelBackupExport Operation = "cancelBackupExport"
	// The backup schedule of a cluster.
	OpGetBackupSchedule    Operation = "getBackupSchedule"
	OpUpdateBackupSchedule Operation = "updateBackupSchedule"
	OpDeleteBackupSchedule Operation = "deleteClusterBackupSchedule"
	// The restore-job extension (…/backup/snapexRestoreJobs); Atlas has no
	// such operations.
	OpCreateSnapexRestoreJob Operation = "createSnapexRestoreJob"
	OpListSnapexRestoreJobs  Operation = "listSnapexRestoreJobs"
	OpGetSnapexRestoreJob    Operation = "getSnapexRestoreJob"
	OpCancelSnapexRestoreJob Operation = "cancelSnapexRestoreJob"
)

// Operations lists every operation snapex serves, in the order above.
func Operations() []Operation {
	return []Operation{
		OpListExportBuckets, OpCreateExportBucket, OpGetExportBucket, OpDeleteExportBucket,
		OpUpdateBackupExportBucket, OpListBackupExports, OpCreateBackupExport, OpGetBackupExport,
		OpTakeSnapshots, OpListBackupSnapshots, OpGetClusterBackupSnapshot, OpUpdateBackupSnapshot,
		OpDeleteClusterBackupSnapshot, OpListBackupShardedClusters, OpGetBackupShardedCluster,
		OpDeleteBackupShardedCluster, OpListClusters, OpGetCluster, OpCancelBackupExport,
		OpGetBackupSchedule, OpUpdateBackupSchedule, OpDeleteBackupSchedule,
		OpCreateSnapexRestoreJob, OpListSnapexRestoreJobs, OpGetSnapexRestoreJob, OpCancelSnapexRestoreJob,
	}
}
