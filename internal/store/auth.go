package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Auth state shared by every replica using the database: server secrets
// (the key that signs digest nonces), the digest nonce counts already
// used (replay protection) and OAuth access tokens, stored only as hashes.

// AuthSecret returns the server secret called name, creating it with gen on
// first use. Replicas starting at the same time agree on one value: the
// first insert wins and everybody reads it back.
func (s *Store) AuthSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	fresh, err := gen()
	if err != nil {
		return nil, fmt.Errorf("auth secret %s: generate: %w", name, err)
	}
	if _, err := s.exec(ctx, s.db, `INSERT INTO auth_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, hex.EncodeToString(fresh), millis(time.Now())); err != nil {
		return nil, fmt.Errorf("auth secret %s: %w", name, err)
	}
	var stored string
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT value FROM auth_secrets WHERE name = ?`), name).Scan(&stored); err != nil {
		return nil, fmt.Errorf("auth secret %s: %w", name, err)
	}
	b, err := hex.DecodeString(stored)
	if err != nil {
		return nil, fmt.Errorf("auth secret %s: stored value is not hex: %w", name, err)
	}
	return b, nil
}

// UseNonceCount records that the digest nonce was used with nonce count nc.
// It returns ErrDuplicate when that pair was recorded before (a replay),
// whichever replica recorded it. expiresAt is when the nonce stops being
// accepted anyway, after which PurgeAuth may forget the row.
func (s *Store) UseNonceCount(ctx context.Context, nonce string, nc uint32, expiresAt time.Time) error {
	res, err := s.exec(ctx, s.db, `INSERT INTO auth_nonce_uses (nonce, nc, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce, nc) DO NOTHING`,
		nonce, int64(nc), millis(expiresAt))
	if err != nil {
		return fmt.Errorf("use nonce count: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("use nonce count: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("use nonce count %08x: %w", nc, ErrDuplicate)
	}
	return nil
}

// AccessToken is an OAuth access token as stored: its SHA-256 hash (hex),
// never the token itself.
type AccessToken struct {
	Hash      string
	ClientID  string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// RevokedAt is zero while the token is not revoked.
	RevokedAt time.Time
}

// CreateAccessToken stores a newly issued access token.
func (s *Store) CreateAccessToken(ctx context.Context, t *AccessToken) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO auth_tokens (token_hash, client_id, issued_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?)`,
		t.Hash, t.ClientID, millis(t.IssuedAt), millis(t.ExpiresAt), millis(t.RevokedAt))
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		return fmt.Errorf("create access token: %w", ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("create access token: %w", err)
	}
	return nil
}

// GetAccessToken looks up an access token by its hash; ErrNotFound when
// unknown (or already purged).
func (s *Store) GetAccessToken(ctx context.Context, hash string) (*AccessToken, error) {
	var t AccessToken
	var issued, expires, revoked int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT token_hash, client_id, issued_at, expires_at, revoked_at FROM auth_tokens WHERE token_hash = ?`), hash).
		Scan(&t.Hash, &t.ClientID, &issued, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get access token: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get access token: %w", err)
	}
	t.IssuedAt, t.ExpiresAt, t.RevokedAt = fromMillis(issued), fromMillis(expires), fromMillis(revoked)
	return &t, nil
}

// RevokeAccessToken marks the token with this hash revoked at time at,
// provided it was issued to clientID and is not revoked yet. It reports
// whether a token was revoked by this call.
func (s *Store) RevokeAccessToken(ctx context.Context, hash, clientID string, at time.Time) (bool, error) {
	res, err := s.exec(ctx, s.db, `UPDATE auth_tokens SET revoked_at = ? WHERE token_hash = ? AND client_id = ? AND revoked_at = 0`,
		millis(at), hash, clientID)
	if err != nil {
		return false, fmt.Errorf("revoke access token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("revoke access token: %w", err)
	}
	return n > 0, nil
}

// PurgeAuth deletes nonce uses and access tokens (revoked or not) that
// expired before now; neither can be accepted any more. It returns how many
// rows of each went.
func (s *Store) PurgeAuth(ctx context.Context, now time.Time) (nonces, tokens int64, err error) {
	res, err := s.exec(ctx, s.db, `DELETE FROM auth_nonce_uses WHERE expires_at < ?`, millis(now))
	if err != nil {
		return 0, 0, fmt.Errorf("purge nonce uses: %w", err)
	}
	if nonces, err = res.RowsAffected(); err != nil {
		return 0, 0, fmt.Errorf("purge nonce uses: %w", err)
	}
	res, err = s.exec(ctx, s.db, `DELETE FROM auth_tokens WHERE expires_at < ?`, millis(now))
	if err != nil {
		return nonces, 0, fmt.Errorf("purge access tokens: %w", err)
	}
	if tokens, err = res.RowsAffected(); err != nil {
		return nonces, 0, fmt.Errorf("purge access tokens: %w", err)
	}
	return nonces, tokens, nil
}

// isPrimaryKeyViolation recognises SQLite's primary-key constraint failure,
// which it reports apart from unique-index failures (PostgreSQL reports
// both as 23505, which isUniqueViolation handles).
func isPrimaryKeyViolation(err error) bool {
	var lite *sqlite.Error
	return errors.As(err, &lite) && lite.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
