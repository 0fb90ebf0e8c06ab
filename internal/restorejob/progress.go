package restorejob

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/store"
)

// storeProgress keeps a restore job's progress in snapex's own store,
// keyed by the job: a second job restoring the same export with the same
// options into the same cluster starts afresh instead of finding the
// first one's records, and every record is fenced by the job's lease, so
// a worker that lost the job cannot overwrite its successor's records.
//
// It is as exact as the CLI's progress in the target: a file's record is
// saved only after its batch is in the target, and a batch written but
// not recorded is written again on resumption in the engine's uncertain
// mode, whichever store holds the records.
type storeProgress struct {
	st    *store.Store
	job   string
	owner string
}

var _ restore.Progress = (*storeProgress)(nil)

// Load implements restore.Progress.
func (p *storeProgress) Load(ctx context.Context, run string) (*restore.State, error) {
	rows, err := p.st.RestoreProgress(ctx, p.job, run)
	if err != nil {
		return nil, err
	}
	s := &restore.State{Namespaces: map[string]restore.NamespaceRecord{}, Files: map[string]restore.FileRecord{}}
	for _, r := range rows {
		var err error
		switch r.Kind {
		case store.RestoreProgressRun:
			var rec restore.RunRecord
			err = json.Unmarshal([]byte(r.Record), &rec)
			s.Run = &rec
		case store.RestoreProgressNamespace:
			var rec restore.NamespaceRecord
			err = json.Unmarshal([]byte(r.Record), &rec)
			s.Namespaces[r.Key] = rec
		case store.RestoreProgressFile:
			var rec restore.FileRecord
			err = json.Unmarshal([]byte(r.Record), &rec)
			s.Files[r.Key] = rec
		}
		if err != nil {
			return nil, fmt.Errorf("restore job %s: decode %s progress %s: %w", p.job, r.Kind, r.Key, err)
		}
	}
	return s, nil
}

func (p *storeProgress) save(ctx context.Context, run string, row store.RestoreProgressRow, rec any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("restore job %s: encode %s progress: %w", p.job, row.Kind, err)
	}
	row.Record = string(b)
	return p.st.SaveRestoreProgress(ctx, p.job, p.owner, run, row)
}

// SaveRun implements restore.Progress.
func (p *storeProgress) SaveRun(ctx context.Context, run string, r restore.RunRecord) error {
	return p.save(ctx, run, store.RestoreProgressRow{Kind: store.RestoreProgressRun, Key: "run", Done: r.Status == restore.RunDone}, r)
}

// SaveNamespace implements restore.Progress.
func (p *storeProgress) SaveNamespace(ctx context.Context, run string, n restore.NamespaceRecord) error {
	return p.save(ctx, run, store.RestoreProgressRow{Kind: store.RestoreProgressNamespace, Key: n.Source, Done: n.Phase == restore.PhaseIndexed}, n)
}

// SaveFile implements restore.Progress.
func (p *storeProgress) SaveFile(ctx context.Context, run string, f restore.FileRecord) error {
	return p.save(ctx, run, store.RestoreProgressRow{Kind: store.RestoreProgressFile, Key: f.Key, Docs: f.Docs, Done: f.Done}, f)
}

// Clear implements restore.Progress.
func (p *storeProgress) Clear(ctx context.Context, run string) error {
	return p.st.ClearRestoreProgress(ctx, p.job, p.owner, run)
}
