package store

import (
	"context"
	"fmt"

	"github.com/snapex/snapex/internal/atlas"
)

// listPage runs a paged list: the count of the rows that match where, then
// one page of them in order, each read by scan. what names the resource in
// errors.
func listPage[T any](ctx context.Context, s *Store, what, columns, from, where, order string, p atlas.Page, scan func(scanner) (T, error), args ...any) ([]T, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM `+from+` WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", what, err)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+columns+` FROM `+from+` WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`),
		append(args, p.ItemsPerPage, p.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, err)
	}
	return out, total, nil
}

// getRow reads the one row of from that matches where, with scan; what
// and id name it in errors (sql.ErrNoRows when there is none).
func getRow[T any](ctx context.Context, s *Store, what, id, columns, from, where string, scan func(scanner) (T, error), args ...any) (T, error) {
	v, err := scan(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+columns+` FROM `+from+` WHERE `+where), args...))
	if err != nil {
		var zero T
		return zero, fmt.Errorf("get %s %s: %w", what, id, err)
	}
	return v, nil
}
