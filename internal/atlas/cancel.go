package atlas

// CancelledByUser is the stateReason of a job a user cancelled.
func CancelledByUser() StateReason {
	return StateReason{ErrorCode: string(CodeExportCancelledByUser), Message: "the export job was cancelled by a user"}
}

// CancelledSnapshotDeleted is the stateReason of a job cancelled because
// its snapshot was deleted.
func CancelledSnapshotDeleted(snapshotID string) StateReason {
	return StateReason{ErrorCode: string(CodeExportCancelledSnapshotGone), Message: "the export job was cancelled because snapshot " + snapshotID + " was deleted"}
}
