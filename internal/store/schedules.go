package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// scheduleBody is a schedule as stored in backup_schedules.body.
type scheduleBody struct {
	PolicyID                          string            `json:"policyId"`
	Items                             []policyItemBody  `json:"items"`
	ReferenceHourOfDay                int               `json:"referenceHourOfDay"`
	ReferenceMinuteOfHour             int               `json:"referenceMinuteOfHour"`
	RestoreWindowDays                 int               `json:"restoreWindowDays"`
	AutoExportEnabled                 bool              `json:"autoExportEnabled"`
	Export                            *atlas.AutoExport `json:"export,omitempty"`
	UseOrgAndGroupNamesInExportPrefix bool              `json:"useOrgAndGroupNamesInExportPrefix"`
	CopySettings                      json.RawMessage   `json:"copySettings,omitempty"`
	ExtraRetentionSettings            json.RawMessage   `json:"extraRetentionSettings,omitempty"`
	CopyPolicyItemsEnabled            *bool             `json:"copyPolicyItemsEnabled,omitempty"`
	AutoCopySettingsEnabled           *bool             `json:"autoCopySettingsEnabled,omitempty"`
}

type policyItemBody struct {
	ID       string `json:"id"`
	Type     string `json:"frequencyType"`
	Interval int    `json:"frequencyInterval"`
	Unit     string `json:"retentionUnit"`
	Value    int    `json:"retentionValue"`
}

func encodeSchedule(s *atlas.Schedule) (string, error) {
	b := scheduleBody{
		PolicyID: s.PolicyID, ReferenceHourOfDay: s.ReferenceHourOfDay, ReferenceMinuteOfHour: s.ReferenceMinuteOfHour,
		RestoreWindowDays: s.RestoreWindowDays, AutoExportEnabled: s.AutoExportEnabled, Export: s.Export,
		UseOrgAndGroupNamesInExportPrefix: s.UseOrgAndGroupNamesInExportPrefix, CopySettings: s.CopySettings,
		ExtraRetentionSettings: s.ExtraRetentionSettings, CopyPolicyItemsEnabled: s.CopyPolicyItemsEnabled,
		AutoCopySettingsEnabled: s.AutoCopySettingsEnabled, Items: []policyItemBody{},
	}
	for _, it := range s.Items {
		b.Items = append(b.Items, policyItemBody{it.ID, string(it.FrequencyType), it.FrequencyInterval, string(it.RetentionUnit), it.RetentionValue})
	}
	return jsonText(b)
}

func decodeSchedule(groupID, cluster, body string) (*atlas.Schedule, error) {
	var b scheduleBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return nil, fmt.Errorf("schedule of %s: %w", cluster, err)
	}
	s := &atlas.Schedule{
		GroupID: groupID, ClusterName: cluster, PolicyID: b.PolicyID, ReferenceHourOfDay: b.ReferenceHourOfDay,
		ReferenceMinuteOfHour: b.ReferenceMinuteOfHour, RestoreWindowDays: b.RestoreWindowDays, AutoExportEnabled: b.AutoExportEnabled,
		Export: b.Export, UseOrgAndGroupNamesInExportPrefix: b.UseOrgAndGroupNamesInExportPrefix, CopySettings: b.CopySettings,
		ExtraRetentionSettings: b.ExtraRetentionSettings, CopyPolicyItemsEnabled: b.CopyPolicyItemsEnabled,
		AutoCopySettingsEnabled: b.AutoCopySettingsEnabled, Items: []atlas.PolicyItem{},
	}
	for _, it := range b.Items {
		s.Items = append(s.Items, atlas.PolicyItem{ID: it.ID, FrequencyType: atlas.Frequency(it.Type), FrequencyInterval: it.Interval,
			RetentionUnit: atlas.RetentionUnit(it.Unit), RetentionValue: it.Value})
	}
	return s, nil
}

// GetSchedule returns a cluster's stored backup schedule and the last
// slot served (ErrNotFound when none is stored yet).
func (s *Store) GetSchedule(ctx context.Context, groupID, cluster string) (*atlas.Schedule, time.Time, error) {
	var body string
	var last int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT body, last_slot FROM backup_schedules WHERE group_id = ? AND cluster_name = ?`), groupID, cluster).Scan(&body, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("get schedule of %s: %w", cluster, ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("get schedule of %s: %w", cluster, err)
	}
	sch, err := decodeSchedule(groupID, cluster, body)
	return sch, fromMillis(last), err
}

// CreateScheduleIfAbsent stores sch as the cluster's schedule unless one
// exists (another replica may create it at the same moment; the first
// wins and everyone reads it back).
func (s *Store) CreateScheduleIfAbsent(ctx context.Context, sch *atlas.Schedule, lastSlot, now time.Time) error {
	body, err := encodeSchedule(sch)
	if err != nil {
		return fmt.Errorf("create schedule of %s: %w", sch.ClusterName, err)
	}
	_, err = s.exec(ctx, s.db, `INSERT INTO backup_schedules (group_id, cluster_name, body, export_bucket_id, last_slot, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, cluster_name) DO NOTHING`,
		sch.GroupID, sch.ClusterName, body, sch.AutoExportBucket(), millis(lastSlot), millis(now))
	if err != nil {
		return fmt.Errorf("create schedule of %s: %w", sch.ClusterName, err)
	}
	return nil
}

// SaveSchedule replaces a stored schedule; lastSlot moves the point from
// which slots are owed forward (a changed policy owes nothing before the
// change) but never back, so a save racing a scheduling pass cannot make
// the slot that pass just took owed again.
func (s *Store) SaveSchedule(ctx context.Context, sch *atlas.Schedule, lastSlot, now time.Time) error {
	body, err := encodeSchedule(sch)
	if err != nil {
		return fmt.Errorf("save schedule of %s: %w", sch.ClusterName, err)
	}
	res, err := s.exec(ctx, s.db, `UPDATE backup_schedules SET body = ?, export_bucket_id = ?,
		last_slot = CASE WHEN last_slot > ? THEN last_slot ELSE ? END, updated_at = ? WHERE group_id = ? AND cluster_name = ?`,
		body, sch.AutoExportBucket(), millis(lastSlot), millis(lastSlot), millis(now), sch.GroupID, sch.ClusterName)
	if err != nil {
		return fmt.Errorf("save schedule of %s: %w", sch.ClusterName, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("save schedule of %s: %w", sch.ClusterName, ErrNotFound)
	}
	return nil
}

// SchedulesUsingBucket names the clusters whose auto export writes into
// the bucket.
func (s *Store) SchedulesUsingBucket(ctx context.Context, bucketID string) ([]string, error) {
	return s.ids(ctx, `SELECT cluster_name FROM backup_schedules WHERE export_bucket_id = ? ORDER BY cluster_name`, bucketID)
}

// ErrSlotTaken means another process already took the slot (or the
// schedule moved on meanwhile).
var ErrSlotTaken error = atlas.SlotTaken

// CreateScheduledSnapshot records the slot as served and inserts its
// queued snapshot in one transaction, running enqueue in it too. The
// compare-and-set on last_slot and the unique (cluster, scheduled_for)
// index make a slot produce one snapshot however many processes try;
// the loser gets ErrSlotTaken.
func (s *Store) CreateScheduledSnapshot(ctx context.Context, sn *atlas.Snapshot, meta atlas.ScheduledSnapshot, prevSlot time.Time, retentionDays int, enqueue InTx) error {
	err := s.hookTx(ctx, func(q querier, tx Tx) error {
		n, err := execCount(ctx, tx, `UPDATE backup_schedules SET last_slot = ? WHERE group_id = ? AND cluster_name = ? AND last_slot = ?`,
			millis(meta.ScheduledFor), sn.GroupID, sn.ClusterName, millis(prevSlot))
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrSlotTaken
		}
		members, err := jsonText(nonNil(sn.Members))
		if err != nil {
			return err
		}
		items, err := jsonText(nonNil(meta.PolicyItems))
		if err != nil {
			return err
		}
		opts, err := optionsJSON(meta.AutoExportOptions)
		if err != nil {
			return err
		}
		cols := snapshotColumns + `, retention_days, queued_at, policy_items, scheduled_for, auto_export_bucket, auto_export_options`
		err = q.exec(ctx, `INSERT INTO snapshots (`+cols+`) VALUES (`+placeholders(strings.Count(cols, ",")+1)+`)`,
			sn.ID, sn.GroupID, sn.ClusterName, string(sn.Kind), string(sn.Status), sn.SnapshotType, sn.FrequencyType,
			sn.Description, sn.ReplicaSetName, members, sn.MongodVersion, sn.StorageSizeBytes, sn.Consistency,
			sn.FailureReason, millis(sn.CreatedAt), millis(sn.ExpiresAt), retentionDays, millis(sn.CreatedAt),
			items, millis(meta.ScheduledFor), meta.AutoExportBucket, opts)
		if isUniqueViolation(err) {
			return ErrSlotTaken
		}
		if err != nil {
			return err
		}
		if enqueue != nil {
			return enqueue(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create scheduled snapshot of %s at %s: %w", sn.ClusterName, meta.ScheduledFor.Format(time.RFC3339), err)
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// execCount runs a statement in a hook transaction and returns the
// number of rows it changed.
func execCount(ctx context.Context, tx Tx, query string, args ...any) (int64, error) {
	if tx.PGX != nil {
		tag, err := tx.PGX.Exec(ctx, postgresDialect.rebind(query), args...)
		if err != nil {
			return 0, err
		}
		return tag.RowsAffected(), nil
	}
	res, err := tx.SQL.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ScheduledSnapshotOf returns the schedule facts of a snapshot (zero
// ScheduledFor for an on-demand one).
func (s *Store) ScheduledSnapshotOf(ctx context.Context, id string) (atlas.ScheduledSnapshot, error) {
	var m atlas.ScheduledSnapshot
	var items, opts string
	var at int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT policy_items, scheduled_for, auto_export_bucket, auto_export_options FROM snapshots WHERE id = ?`), id).
		Scan(&items, &at, &m.AutoExportBucket, &opts)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("snapshot %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("snapshot %s: %w", id, err)
	}
	m.ScheduledFor = fromMillis(at)
	if err := json.Unmarshal([]byte(items), &m.PolicyItems); err != nil {
		return m, fmt.Errorf("snapshot %s policy items: %w", id, err)
	}
	if m.AutoExportOptions, err = decodeOptions(opts); err != nil {
		return m, fmt.Errorf("snapshot %s automatic export options: %w", id, err)
	}
	return m, nil
}

// SnapshotPolicyItems maps snapshot ids to the policy item ids they
// serve (scheduled snapshots only).
func (s *Store) SnapshotPolicyItems(ctx context.Context, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id, policy_items FROM snapshots WHERE scheduled_for > 0 AND id IN (`+placeholders(len(ids))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("snapshot policy items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, items string
		if err := rows.Scan(&id, &items); err != nil {
			return nil, fmt.Errorf("snapshot policy items: %w", err)
		}
		var list []string
		if err := json.Unmarshal([]byte(items), &list); err != nil {
			return nil, fmt.Errorf("snapshot %s policy items: %w", id, err)
		}
		out[id] = list
	}
	return out, rows.Err()
}

// ScheduledSnapshotsOf lists a cluster's scheduled snapshots with their
// schedule facts.
func (s *Store) ScheduledSnapshotsOf(ctx context.Context, groupID, cluster string) (map[string]atlas.ScheduledSnapshot, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id, policy_items, scheduled_for, auto_export_bucket, auto_export_options FROM snapshots
		WHERE group_id = ? AND cluster_name = ? AND scheduled_for > 0`), groupID, cluster)
	if err != nil {
		return nil, fmt.Errorf("scheduled snapshots of %s: %w", cluster, err)
	}
	defer rows.Close()
	out := map[string]atlas.ScheduledSnapshot{}
	for rows.Next() {
		var id, items, opts string
		var at int64
		var m atlas.ScheduledSnapshot
		if err := rows.Scan(&id, &items, &at, &m.AutoExportBucket, &opts); err != nil {
			return nil, fmt.Errorf("scheduled snapshots of %s: %w", cluster, err)
		}
		if err := json.Unmarshal([]byte(items), &m.PolicyItems); err != nil {
			return nil, fmt.Errorf("snapshot %s policy items: %w", id, err)
		}
		var err error
		if m.AutoExportOptions, err = decodeOptions(opts); err != nil {
			return nil, fmt.Errorf("snapshot %s automatic export options: %w", id, err)
		}
		m.ScheduledFor = fromMillis(at)
		out[id] = m
	}
	return out, rows.Err()
}

// PendingAutoExports lists completed scheduled snapshots whose automatic
// export has not been created yet.
func (s *Store) PendingAutoExports(ctx context.Context) ([]string, error) {
	return s.ids(ctx, `SELECT id FROM snapshots WHERE auto_export_done = 0 AND auto_export_bucket <> '' AND status = 'completed' ORDER BY id LIMIT 100`)
}

// CreateAutoExportJob is CreateExportJob for a scheduled snapshot's
// automatic export: in the same transaction it marks the snapshot's
// automatic export as created, so however many processes try, one job is
// created; the others get atlas.AutoExportTaken.
func (s *Store) CreateAutoExportJob(ctx context.Context, j *atlas.ExportJob, enqueue InTx) error {
	return s.CreateExportJob(ctx, j, func(ctx context.Context, tx Tx) error {
		n, err := execCount(ctx, tx, `UPDATE snapshots SET auto_export_done = 1 WHERE id = ? AND auto_export_done = 0`, j.SnapshotID)
		if err != nil {
			return fmt.Errorf("claim auto export of %s: %w", j.SnapshotID, err)
		}
		if n == 0 {
			return atlas.AutoExportTaken
		}
		if enqueue != nil {
			return enqueue(ctx, tx)
		}
		return nil
	})
}

// DropAutoExport marks a snapshot's automatic export as settled without
// a job (its bucket is gone or the snapshot failed).
func (s *Store) DropAutoExport(ctx context.Context, snapshotID string) error {
	if _, err := s.exec(ctx, s.db, `UPDATE snapshots SET auto_export_done = 1 WHERE id = ?`, snapshotID); err != nil {
		return fmt.Errorf("drop auto export of %s: %w", snapshotID, err)
	}
	return nil
}

// checkBucketNotScheduled fails a bucket deletion, inside its
// transaction, while an auto-export policy names the bucket.
func (s *Store) checkBucketNotScheduled(ctx context.Context, tx *sql.Tx, bucketID string) error {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT cluster_name FROM backup_schedules WHERE export_bucket_id = ? ORDER BY cluster_name`), bucketID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(names) > 0 {
		return &atlas.BucketScheduled{Clusters: names}
	}
	return nil
}
