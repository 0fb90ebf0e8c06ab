package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/store"
)

// Realm is the digest realm Atlas uses.
const Realm = "MMS Public API"

// Principal kinds.
const (
	// KindAPIKey is a programmatic API key (HTTP Digest); ID is its public key.
	KindAPIKey = "apiKey"
	// KindServiceAccount is an OAuth service account; ID is its client id.
	KindServiceAccount = "serviceAccount"
)

// Defaults for Options.
const (
	DefaultNonceLifetime = 5 * time.Minute
	DefaultPurgeInterval = time.Minute
)

// maxClockSkew is how far replicas' clocks may disagree: a nonce issued up
// to this far in the future is still accepted, and replay records are kept
// this much longer than the nonce lives.
const maxClockSkew = time.Minute

// nonceSecretName names the database row holding the nonce-signing key.
const nonceSecretName = "digest-nonce-hmac"

// Principal is an authenticated caller and the roles it holds.
type Principal struct {
	// Kind is KindAPIKey or KindServiceAccount.
	Kind string
	// ID is the public key or the client id.
	ID string
	// Grants are the roles from the configuration.
	Grants []Grant
}

// Grant is one role in an organization (ORG_* roles, OrgID set) or in a
// project (GROUP_* roles, GroupID set).
type Grant struct {
	Role    atlas.Role
	OrgID   string
	GroupID string
}

// Options tune an Authenticator; the zero value gives Atlas's behaviour.
type Options struct {
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// NonceLifetime is how long a digest nonce is accepted (default 5 min);
	// an older one is answered with stale=true.
	NonceLifetime time.Duration
	// ChallengeAlgorithm is the algorithm the digest challenge offers:
	// "MD5" (default, what Atlas sends) or "SHA-256". Responses computed
	// with MD5, SHA-256 or their -sess variants are accepted either way.
	ChallengeAlgorithm string
	// PurgeInterval is how often expired nonce records and tokens are
	// deleted, piggybacking on requests (default 1 min).
	PurgeInterval time.Duration
	// Logger receives authentication failures (never secrets); default
	// discards.
	Logger *slog.Logger
}

// Authenticator authenticates requests and authorizes operations. It is
// safe for concurrent use; several Authenticators (replicas) may share one
// store.
type Authenticator struct {
	st            *store.Store
	catalog       *config.Catalog
	now           func() time.Time
	nonceLifetime time.Duration
	challengeAlg  string
	purgeInterval time.Duration
	log           *slog.Logger

	nonceKey []byte
	keys     map[string]*apiKey
	accounts map[string]*serviceAccount
	// dummyKey stands in for unknown public keys so that they cost the
	// same work as known ones.
	dummyKey *apiKey
	// dummySecret stands in for unknown client ids likewise.
	dummySecret [sha256.Size]byte

	lastPurge atomic.Int64 // unix nanoseconds of the last purge
}

// apiKey is what is kept of a configured API key: never the private key,
// only the digest HA1 values derived from it.
type apiKey struct {
	principal Principal
	ha1       map[string]string // by base algorithm ("MD5", "SHA-256"): hex H(user:realm:password)
	access    accessList
}

// serviceAccount is what is kept of a configured service account: the
// SHA-256 of its secret, not the secret.
type serviceAccount struct {
	principal  Principal
	secretHash [sha256.Size]byte
	lifetime   time.Duration
	access     accessList
}

// New builds an Authenticator for the keys and service accounts of cfg,
// which must have been loaded and validated. The nonce-signing secret is
// read from st (created on first start), so every replica sharing the
// database verifies the nonces of the others.
func New(ctx context.Context, cfg *config.Config, st *store.Store, opts Options) (*Authenticator, error) {
	if cfg == nil || st == nil {
		return nil, errors.New("auth: config and store are required")
	}
	a := &Authenticator{
		st:            st,
		catalog:       cfg.Catalog(),
		now:           opts.Now,
		nonceLifetime: opts.NonceLifetime,
		challengeAlg:  opts.ChallengeAlgorithm,
		purgeInterval: opts.PurgeInterval,
		log:           opts.Logger,
		keys:          map[string]*apiKey{},
		accounts:      map[string]*serviceAccount{},
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.nonceLifetime <= 0 {
		a.nonceLifetime = DefaultNonceLifetime
	}
	if a.purgeInterval <= 0 {
		a.purgeInterval = DefaultPurgeInterval
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	switch a.challengeAlg {
	case "":
		a.challengeAlg = "MD5"
	case "MD5", "SHA-256":
	default:
		return nil, fmt.Errorf("auth: challenge algorithm must be MD5 or SHA-256, got %q", opts.ChallengeAlgorithm)
	}
	for _, k := range cfg.APIKeys {
		if _, dup := a.keys[k.PublicKey]; dup {
			return nil, fmt.Errorf("auth: duplicate API key %s", k.PublicKey)
		}
		if k.PrivateKey.Value() == "" {
			return nil, fmt.Errorf("auth: API key %s has an empty private key", k.PublicKey)
		}
		acl, err := parseAccessList(k.AccessList)
		if err != nil {
			return nil, fmt.Errorf("auth: API key %s: %w", k.PublicKey, err)
		}
		a.keys[k.PublicKey] = &apiKey{
			principal: Principal{Kind: KindAPIKey, ID: k.PublicKey, Grants: grants(k.Roles)},
			ha1:       ha1Values(k.PublicKey, k.PrivateKey.Value()),
			access:    acl,
		}
	}
	for _, s := range cfg.ServiceAccounts {
		if _, dup := a.accounts[s.ClientID]; dup {
			return nil, fmt.Errorf("auth: duplicate service account %s", s.ClientID)
		}
		if s.ClientSecret.Value() == "" {
			return nil, fmt.Errorf("auth: service account %s has an empty client secret", s.ClientID)
		}
		acl, err := parseAccessList(s.AccessList)
		if err != nil {
			return nil, fmt.Errorf("auth: service account %s: %w", s.ClientID, err)
		}
		lifetime := time.Duration(s.TokenLifetimeSeconds) * time.Second
		if lifetime <= 0 {
			lifetime = time.Hour
		}
		a.accounts[s.ClientID] = &serviceAccount{
			principal:  Principal{Kind: KindServiceAccount, ID: s.ClientID, Grants: grants(s.Roles)},
			secretHash: sha256.Sum256([]byte(s.ClientSecret.Value())),
			lifetime:   lifetime,
			access:     acl,
		}
	}
	var dummy [32]byte
	if _, err := rand.Read(dummy[:]); err != nil {
		return nil, fmt.Errorf("auth: random: %w", err)
	}
	a.dummyKey = &apiKey{ha1: ha1Values("", string(dummy[:]))}
	a.dummySecret = sha256.Sum256(dummy[:])

	key, err := st.AuthSecret(ctx, nonceSecretName, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("auth: stored nonce secret is too short (%d bytes)", len(key))
	}
	a.nonceKey = key
	if err := a.Purge(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

func grants(rs []*config.RoleGrant) []Grant {
	out := make([]Grant, 0, len(rs))
	for _, g := range rs {
		out = append(out, Grant{Role: atlas.Role(g.Role), OrgID: g.OrgID, GroupID: g.GroupID})
	}
	return out
}

// clone returns a copy the caller may keep and modify.
func (p *Principal) clone() *Principal {
	c := *p
	c.Grants = append([]Grant(nil), p.Grants...)
	return &c
}

// failure says why authentication failed, for the log and the challenge.
type failure struct {
	reason string
	user   string
	stale  bool
}

// Authenticate identifies the caller of r from its Authorization header
// (Digest for API keys, Bearer for service-account tokens) and checks the
// credential's access list. It never reads the request body.
//
// On failure it returns the error to render; for every 401 it has already
// set the WWW-Authenticate digest challenge on w (also for bearer failures:
// digest clients break on a 401 without one, bearer clients ignore it).
// 401 for missing, unknown, wrong, expired or replayed credentials (one
// body for all, as Atlas); 403 IP_ADDRESS_NOT_ON_ACCESS_LIST for a client
// outside the credential's access list; 500 when the database fails.
func (a *Authenticator) Authenticate(w http.ResponseWriter, r *http.Request) (*Principal, *atlas.Error) {
	ctx := r.Context()
	a.maybePurge(ctx)
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return a.deny(w, r, failure{reason: "no credentials"})
	}
	if len(values) > 1 {
		return a.deny(w, r, failure{reason: "several Authorization headers"})
	}
	h, err := parseAuthorization(values[0])
	if err != nil {
		return a.deny(w, r, failure{reason: "malformed Authorization header"})
	}
	var (
		principal *Principal
		access    accessList
		f         *failure
	)
	switch {
	case strings.EqualFold(h.Scheme, "Digest"):
		var key *apiKey
		key, f, err = a.verifyDigest(ctx, r, h)
		if key != nil {
			principal, access = &key.principal, key.access
		}
	case strings.EqualFold(h.Scheme, "Bearer"):
		var acct *serviceAccount
		acct, f, err = a.verifyBearer(ctx, h)
		if acct != nil {
			principal, access = &acct.principal, acct.access
		}
	default:
		f = &failure{reason: "unsupported scheme " + h.Scheme}
	}
	if err != nil {
		a.log.ErrorContext(ctx, "authentication: database failure", slog.Any("error", err))
		return nil, atlas.ErrUnexpected()
	}
	if f != nil {
		return a.deny(w, r, *f)
	}
	if !access.allows(r.RemoteAddr) {
		ip := clientIP(r.RemoteAddr)
		a.log.InfoContext(ctx, "authentication: address not on access list",
			slog.String("kind", principal.Kind), slog.String("id", principal.ID), slog.String("remote", ip))
		return nil, atlas.ErrNotOnAccessList(ip)
	}
	return principal.clone(), nil
}

// deny logs f, sets a fresh challenge and returns the 401 Atlas sends for
// every authentication failure.
func (a *Authenticator) deny(w http.ResponseWriter, r *http.Request, f failure) (*Principal, *atlas.Error) {
	level := slog.LevelInfo
	if f.reason == "no credentials" {
		level = slog.LevelDebug // the first leg of every digest exchange
	}
	a.log.Log(r.Context(), level, "authentication failed",
		slog.String("reason", f.reason), slog.String("user", f.user), slog.String("remote", r.RemoteAddr),
		slog.String("method", r.Method), slog.String("path", r.URL.Path))
	a.setChallenge(w.Header(), f.stale)
	return nil, atlas.ErrNotAuthenticated()
}

// Challenge sets a fresh digest challenge (stale=false) on h. The HTTP
// layer calls it before rendering any other 401 (such as Authorize's
// USER_UNAUTHORIZED), because Atlas sends a challenge on every 401 and
// digest clients rely on it.
func (a *Authenticator) Challenge(h http.Header) { a.setChallenge(h, false) }

// Purge deletes expired nonce records and access tokens now. Requests
// trigger it every PurgeInterval; call it directly from maintenance code.
func (a *Authenticator) Purge(ctx context.Context) error {
	now := a.now()
	a.lastPurge.Store(now.UnixNano())
	// Nonce records carry their own expiry (with the clock-skew margin);
	// tokens are useless once expired.
	if _, _, err := a.st.PurgeAuth(ctx, now); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return nil
}

// maybePurge runs Purge when PurgeInterval has passed since the last one;
// a failure is logged, not fatal to the request.
func (a *Authenticator) maybePurge(ctx context.Context) {
	now := a.now().UnixNano()
	last := a.lastPurge.Load()
	if now-last < int64(a.purgeInterval) || !a.lastPurge.CompareAndSwap(last, now) {
		return
	}
	if err := a.Purge(ctx); err != nil {
		a.log.WarnContext(ctx, "authentication: purge failed", slog.Any("error", err))
	}
}
