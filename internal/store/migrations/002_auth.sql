CREATE TABLE auth_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE auth_nonce_uses (
    nonce TEXT NOT NULL,
    nc BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (nonce, nc)
);
CREATE INDEX auth_nonce_uses_expiry ON auth_nonce_uses (expires_at);

CREATE TABLE auth_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX auth_tokens_expiry ON auth_tokens (expires_at);
