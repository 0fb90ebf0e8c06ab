package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Tx is the transaction an InTx hook runs in: SQL on SQLite, PGX on
// PostgreSQL (River's PostgreSQL driver inserts jobs only through pgx).
type Tx struct {
	SQL *sql.Tx
	PGX pgx.Tx
}

// InTx is work done inside the transaction that creates a row, such as
// enqueueing the queue job that will process it.
type InTx func(ctx context.Context, tx Tx) error

// querier is the part of a transaction the store's shared statements use,
// over either database/sql or pgx.
type querier interface {
	exec(ctx context.Context, q string, args ...any) error
	queryRow(ctx context.Context, q string, args ...any) scanner
}

type sqlQuerier struct {
	tx *sql.Tx
	d  dialect
}

func (q sqlQuerier) exec(ctx context.Context, query string, args ...any) error {
	_, err := q.tx.ExecContext(ctx, q.d.rebind(query), args...)
	return err
}

func (q sqlQuerier) queryRow(ctx context.Context, query string, args ...any) scanner {
	return q.tx.QueryRowContext(ctx, q.d.rebind(query), args...)
}

type pgxQuerier struct{ tx pgx.Tx }

func (q pgxQuerier) exec(ctx context.Context, query string, args ...any) error {
	_, err := q.tx.Exec(ctx, postgresDialect.rebind(query), args...)
	return err
}

func (q pgxQuerier) queryRow(ctx context.Context, query string, args ...any) scanner {
	return pgxRow{q.tx.QueryRow(ctx, postgresDialect.rebind(query), args...)}
}

// pgxRow maps pgx.ErrNoRows to sql.ErrNoRows so callers check one error.
type pgxRow struct{ row pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if err == pgx.ErrNoRows {
		return sql.ErrNoRows
	}
	return err
}

// hookTx runs fn in a transaction whose handle InTx hooks can use: pgx on
// PostgreSQL, database/sql on SQLite.
func (s *Store) hookTx(ctx context.Context, fn func(q querier, tx Tx) error) error {
	if s.pool != nil {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := fn(pgxQuerier{tx}, Tx{PGX: tx}); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return fn(sqlQuerier{tx, s.d}, Tx{SQL: tx}) })
}
