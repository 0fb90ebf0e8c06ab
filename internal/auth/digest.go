package auth

import (
	"context"
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // required by HTTP Digest, which Atlas clients use
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/snapex/snapex/internal/store"
)

// Nonce layout (24 bytes, 32 base64 characters like Atlas's): 6 bytes of
// issue time in Unix milliseconds, 6 random bytes, then the first 12 bytes
// of HMAC-SHA256(server secret, first 12 bytes). Any replica holding the
// secret verifies it without shared memory.
const (
	nonceTimeLen = 6
	nonceRandLen = 6
	nonceMACLen  = 12
	nonceLen     = nonceTimeLen + nonceRandLen + nonceMACLen
)

// hashes are the digest base algorithms supported.
var hashes = map[string]func() hash.Hash{
	"MD5":     md5.New,
	"SHA-256": sha256.New,
}

// ha1Values derives H(username:realm:password) for each base algorithm.
func ha1Values(user, password string) map[string]string {
	out := make(map[string]string, len(hashes))
	for name, h := range hashes {
		out[name] = hexHash(h, user+":"+Realm+":"+password)
	}
	return out
}

func hexHash(newHash func() hash.Hash, s string) string {
	h := newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// setChallenge sets the WWW-Authenticate header in exactly the form Atlas
// sends: the SDK's digest client splits it on ", " and rejects parameters
// it does not know.
func (a *Authenticator) setChallenge(h http.Header, stale bool) {
	h.Set("WWW-Authenticate", `Digest realm="`+Realm+`", domain="", nonce="`+a.newNonce()+
		`", algorithm=`+a.challengeAlg+`, qop="auth", stale=`+strconv.FormatBool(stale))
}

// newNonce issues a signed, timestamped nonce.
func (a *Authenticator) newNonce() string {
	var b [nonceLen]byte
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(a.now().UnixMilli()))
	copy(b[:nonceTimeLen], ts[8-nonceTimeLen:])
	if _, err := rand.Read(b[nonceTimeLen : nonceTimeLen+nonceRandLen]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	copy(b[nonceTimeLen+nonceRandLen:], a.nonceMAC(b[:nonceTimeLen+nonceRandLen]))
	return base64.StdEncoding.EncodeToString(b[:])
}

func (a *Authenticator) nonceMAC(body []byte) []byte {
	m := hmac.New(sha256.New, a.nonceKey)
	m.Write(body)
	return m.Sum(nil)[:nonceMACLen]
}

// openNonce checks a nonce's signature and returns its issue time.
func (a *Authenticator) openNonce(n string) (time.Time, bool) {
	if len(n) != base64.StdEncoding.EncodedLen(nonceLen) {
		return time.Time{}, false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(n)
	if err != nil || len(b) != nonceLen {
		return time.Time{}, false
	}
	body, mac := b[:nonceTimeLen+nonceRandLen], b[nonceTimeLen+nonceRandLen:]
	if !hmac.Equal(mac, a.nonceMAC(body)) {
		return time.Time{}, false
	}
	var ts [8]byte
	copy(ts[8-nonceTimeLen:], b[:nonceTimeLen])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ts[:]))), true
}

// parseAlgorithm splits a digest algorithm into its base hash and whether
// it is a -sess variant. Absent means MD5 (RFC 7616 §3.4).
func parseAlgorithm(s string) (base string, sess bool, ok bool) {
	if s == "" {
		return "MD5", false, true
	}
	u := strings.ToUpper(s)
	if b, found := strings.CutSuffix(u, "-SESS"); found {
		u, sess = b, true
	}
	if _, known := hashes[u]; !known {
		return "", false, false
	}
	return u, sess, true
}

// verifyDigest checks digest credentials. It returns the key on success, a
// failure when the credentials are refused, or an error when the database
// fails.
func (a *Authenticator) verifyDigest(ctx context.Context, r *http.Request, h *authorization) (*apiKey, *failure, error) {
	p := h.Params
	user := p["username"]
	fail := func(reason string) (*apiKey, *failure, error) {
		return nil, &failure{reason: reason, user: user}, nil
	}
	for _, name := range []string{"username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"} {
		if p[name] == "" {
			return fail("digest parameter " + name + " missing")
		}
	}
	if strings.EqualFold(p["userhash"], "true") {
		return fail("digest userhash not supported")
	}
	if p["realm"] != Realm {
		return fail("digest realm mismatch")
	}
	// Only qop=auth: without qop there is no nonce count to stop replays,
	// and auth-int would need the body, which is not read here.
	if !strings.EqualFold(p["qop"], "auth") {
		return fail("digest qop must be auth")
	}
	nc, err := parseNonceCount(p["nc"])
	if err != nil {
		return fail("digest nc malformed")
	}
	base, sess, ok := parseAlgorithm(p["algorithm"])
	if !ok {
		return fail("digest algorithm not supported")
	}
	// The uri must be this request's target (RFC 7616 §3.4.6), otherwise a
	// response captured for one URL could be sent to another.
	if p["uri"] != r.RequestURI && p["uri"] != r.URL.RequestURI() {
		return fail("digest uri does not match the request")
	}
	issued, ok := a.openNonce(p["nonce"])
	if !ok {
		return fail("digest nonce not issued by snapex")
	}
	key, known := a.keys[user]
	if !known {
		key = a.dummyKey // same work for unknown users
	}
	newHash := hashes[base]
	ha1 := key.ha1[base]
	if sess {
		ha1 = hexHash(newHash, ha1+":"+p["nonce"]+":"+p["cnonce"])
	}
	ha2 := hexHash(newHash, r.Method+":"+p["uri"])
	want := hexHash(newHash, ha1+":"+p["nonce"]+":"+p["nc"]+":"+p["cnonce"]+":"+p["qop"]+":"+ha2)
	got := strings.ToLower(p["response"])
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 || !known {
		return fail("digest response does not match")
	}
	now := a.now()
	if issued.After(now.Add(maxClockSkew)) {
		return fail("digest nonce from the future")
	}
	if now.Sub(issued) > a.nonceLifetime {
		return nil, &failure{reason: "digest nonce expired", user: user, stale: true}, nil
	}
	err = a.st.UseNonceCount(ctx, p["nonce"], nc, issued.Add(a.nonceLifetime+maxClockSkew))
	if errors.Is(err, store.ErrDuplicate) {
		return fail("digest nonce count replayed")
	}
	if err != nil {
		return nil, nil, err
	}
	return key, nil, nil
}

// parseNonceCount reads nc: exactly 8 hex digits, not zero.
func parseNonceCount(s string) (uint32, error) {
	if len(s) != 8 {
		return 0, errBadAuthorization
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil || n == 0 {
		return 0, errBadAuthorization
	}
	return uint32(n), nil
}
