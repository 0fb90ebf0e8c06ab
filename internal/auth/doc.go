// Package auth authenticates and authorizes Atlas Admin API requests the way
// Atlas does, so that the official Atlas SDKs and tools work unchanged:
//
//   - API keys authenticate with HTTP Digest (RFC 7616): the public key is
//     the username, the realm is "MMS Public API", qop is "auth", MD5 and
//     SHA-256 (and their -sess variants) are accepted. Every 401 carries a
//     challenge in exactly the form Atlas sends, because the SDK's digest
//     client rejects anything else. Nonces are signed with a server secret
//     kept in the database, so any replica sharing the database verifies
//     them; they expire (answered with stale=true) and every (nonce, nc)
//     pair is recorded in the database so a replayed request is refused by
//     every replica. Only the digest HA1 values derived from private keys are
//     kept, in memory; private keys are never stored or logged.
//   - Service accounts use OAuth 2 client credentials: TokenHandler serves
//     POST /api/oauth/token, RevokeHandler POST /api/oauth/revoke; access
//     tokens are random, stored as SHA-256 hashes with expiry and revocation,
//     so both hold across restarts and replicas.
//   - Authorize checks a principal's organization and project roles against
//     one table of operations (see roles.go).
//   - Per-credential access lists restrict the client address (the
//     connection's remote address; forwarded headers are not trusted).
package auth
