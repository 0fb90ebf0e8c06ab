package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/snapex/snapex/internal/atlas"
)

const bucketColumns = `id, group_id, bucket_name, cloud_provider, role_id, service_url, tenant_id, region, require_private_networking, created_at`

// CreateBucket inserts a new export bucket.
func (s *Store) CreateBucket(ctx context.Context, b *atlas.ExportBucket) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO export_buckets (`+bucketColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.GroupID, b.BucketName, string(b.CloudProvider), b.RoleID, b.ServiceURL, b.TenantID, b.Region,
		b.RequirePrivateNetworking, millis(b.CreatedAt))
	if err != nil {
		return fmt.Errorf("create export bucket %s: %w", b.ID, err)
	}
	return nil
}

// GetBucket returns one export bucket of a project.
func (s *Store) GetBucket(ctx context.Context, groupID, id string) (*atlas.ExportBucket, error) {
	row := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+bucketColumns+` FROM export_buckets WHERE group_id = ? AND id = ?`), groupID, id)
	b, err := scanBucket(row)
	if err != nil {
		return nil, fmt.Errorf("get export bucket %s: %w", id, err)
	}
	return b, nil
}

// ListBuckets returns one page of a project's export buckets, oldest first,
// and the total count; a non-empty provider restricts the list to it.
func (s *Store) ListBuckets(ctx context.Context, groupID string, provider atlas.Provider, p atlas.Page) ([]*atlas.ExportBucket, int, error) {
	where := `WHERE group_id = ? AND (CAST(? AS TEXT) = '' OR cloud_provider = ?)`
	var total int
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM export_buckets `+where), groupID, string(provider), string(provider)).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count export buckets: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+bucketColumns+` FROM export_buckets `+where+` ORDER BY created_at, id LIMIT ? OFFSET ?`),
		groupID, string(provider), string(provider), p.ItemsPerPage, p.Offset())
	if err != nil {
		return nil, 0, fmt.Errorf("list export buckets: %w", err)
	}
	defer rows.Close()
	var out []*atlas.ExportBucket
	for rows.Next() {
		b, err := scanBucket(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list export buckets: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list export buckets: %w", err)
	}
	return out, total, nil
}

// SetBucketPrivateNetworking updates requirePrivateNetworking.
func (s *Store) SetBucketPrivateNetworking(ctx context.Context, groupID, id string, v bool) (*atlas.ExportBucket, error) {
	res, err := s.exec(ctx, s.db, `UPDATE export_buckets SET require_private_networking = ? WHERE group_id = ? AND id = ?`, v, groupID, id)
	if err != nil {
		return nil, fmt.Errorf("update export bucket %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("update export bucket %s: %w", id, ErrNotFound)
	}
	return s.GetBucket(ctx, groupID, id)
}

// DeleteBucket removes an export bucket unless a queued or running export
// uses it; the check and the delete happen in one transaction.
func (s *Store) DeleteBucket(ctx context.Context, groupID, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT 1 FROM export_buckets WHERE group_id = ? AND id = ?`+s.d.forUpdate), groupID, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var active int
		// A bucket is in use while an export writes it or a restore job
		// reads one of its exports.
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT
			(SELECT COUNT(*) FROM export_jobs WHERE export_bucket_id = ? AND state IN ('Queued', 'InProgress')) +
			(SELECT COUNT(*) FROM restore_jobs r JOIN export_jobs e ON e.id = r.export_job_id
				WHERE e.export_bucket_id = ? AND r.state IN ('Queued', 'InProgress'))`), id, id).Scan(&active); err != nil {
			return err
		}
		if active > 0 {
			return ErrBucketInUse
		}
		if err := s.checkBucketNotScheduled(ctx, tx, id); err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `DELETE FROM export_buckets WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete export bucket %s: %w", id, err)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanBucket(r scanner) (*atlas.ExportBucket, error) {
	var b atlas.ExportBucket
	var provider string
	var created int64
	err := r.Scan(&b.ID, &b.GroupID, &b.BucketName, &provider, &b.RoleID, &b.ServiceURL, &b.TenantID, &b.Region, &b.RequirePrivateNetworking, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	b.CloudProvider = atlas.Provider(provider)
	b.CreatedAt = fromMillis(created)
	return &b, nil
}
