package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"

	"github.com/snapex/snapex/internal/store"
)

// Access tokens are 32 random bytes, base64url without padding (43
// characters). Only their SHA-256 is stored.
const (
	tokenBytes = 32
	// maxFormBody bounds the token and revoke request bodies.
	maxFormBody = 64 << 10
)

var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// OAuth error codes (RFC 6749 §5.2, RFC 7009 §2.2.1).
const (
	oauthInvalidRequest       = "invalid_request"
	oauthInvalidClient        = "invalid_client"
	oauthUnsupportedGrantType = "unsupported_grant_type"
	oauthServerError          = "server_error"
)

// tokenResponse is the 200 body of the token endpoint.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// oauthError is the OAuth-style error body the token endpoints return
// (not an Atlas ApiError).
type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func looksLikeToken(tok string) bool {
	if len(tok) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	return err == nil
}

// verifyBearer checks a bearer access token against the store: known,
// not revoked, not expired, and its service account still configured.
func (a *Authenticator) verifyBearer(ctx context.Context, h *authorization) (*serviceAccount, *failure, error) {
	tok := h.Token68
	if !looksLikeToken(tok) {
		return nil, &failure{reason: "bearer token malformed"}, nil
	}
	t, err := a.st.GetAccessToken(ctx, hashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &failure{reason: "bearer token unknown"}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !t.RevokedAt.IsZero():
		return nil, &failure{reason: "bearer token revoked", user: t.ClientID}, nil
	case !a.now().Before(t.ExpiresAt):
		return nil, &failure{reason: "bearer token expired", user: t.ClientID}, nil
	}
	acct, ok := a.accounts[t.ClientID]
	if !ok {
		return nil, &failure{reason: "bearer token of a service account no longer configured", user: t.ClientID}, nil
	}
	return acct, nil, nil
}

// TokenHandler serves POST /api/oauth/token: the OAuth 2 client-credentials
// grant. The client authenticates with HTTP Basic (client id and secret,
// form-urlencoded first as RFC 6749 §2.3.1 says, which is what the Atlas SDK
// sends; plain values are accepted too) and sends the form body
// grant_type=client_credentials. The answer is 200
// {"access_token","expires_in","token_type":"Bearer"}, or an OAuth error
// body: 401 invalid_client, 400 invalid_request / unsupported_grant_type,
// 405 for another method, 500 server_error. Access lists do not apply here
// (Atlas lets any address obtain a token; using it is what is checked).
func (a *Authenticator) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.maybePurge(r.Context())
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeOAuthError(w, http.StatusMethodNotAllowed, oauthInvalidRequest, "The token endpoint accepts only POST.")
			return
		}
		acct, ok := a.clientAuth(w, r)
		if !ok {
			return
		}
		form, ok := readForm(w, r)
		if !ok {
			return
		}
		switch gt := form["grant_type"]; {
		case len(gt) == 0 || gt[0] == "":
			writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "The grant_type parameter is required.")
			return
		case len(gt) > 1:
			writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "The grant_type parameter must be given once.")
			return
		case gt[0] != "client_credentials":
			writeOAuthError(w, http.StatusBadRequest, oauthUnsupportedGrantType, "Only the client_credentials grant type is supported.")
			return
		}
		var raw [tokenBytes]byte
		if _, err := rand.Read(raw[:]); err != nil {
			a.serverError(w, r, err)
			return
		}
		tok := base64.RawURLEncoding.EncodeToString(raw[:])
		now := a.now()
		err := a.st.CreateAccessToken(r.Context(), &store.AccessToken{
			Hash: hashToken(tok), ClientID: acct.principal.ID, IssuedAt: now, ExpiresAt: now.Add(acct.lifetime),
		})
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		a.log.InfoContext(r.Context(), "oauth: token issued", slog.String("clientId", acct.principal.ID), slog.String("remote", r.RemoteAddr))
		writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, ExpiresIn: int64(acct.lifetime.Seconds()), TokenType: "Bearer"})
	})
}

// RevokeHandler serves POST /api/oauth/revoke (RFC 7009): Basic client
// authentication and the form field token (token_type_hint is accepted and
// ignored: only access tokens exist). It answers 200 with an empty body
// whether or not the token was known, as RFC 7009 asks; a client can
// revoke only its own tokens, another client's token counts as unknown.
func (a *Authenticator) RevokeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeOAuthError(w, http.StatusMethodNotAllowed, oauthInvalidRequest, "The revoke endpoint accepts only POST.")
			return
		}
		acct, ok := a.clientAuth(w, r)
		if !ok {
			return
		}
		form, ok := readForm(w, r)
		if !ok {
			return
		}
		toks := form["token"]
		if len(toks) != 1 || toks[0] == "" {
			writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "The token parameter is required once.")
			return
		}
		if looksLikeToken(toks[0]) {
			revoked, err := a.st.RevokeAccessToken(r.Context(), hashToken(toks[0]), acct.principal.ID, a.now())
			if err != nil {
				a.serverError(w, r, err)
				return
			}
			if revoked {
				a.log.InfoContext(r.Context(), "oauth: token revoked", slog.String("clientId", acct.principal.ID))
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	})
}

// clientAuth authenticates the OAuth client from HTTP Basic credentials,
// comparing secret hashes in constant time; on failure it writes 401
// invalid_client.
func (a *Authenticator) clientAuth(w http.ResponseWriter, r *http.Request) (*serviceAccount, bool) {
	id, secret, ok := r.BasicAuth()
	if ok {
		acct, known := a.accounts[id]
		if !known {
			if u, err := url.QueryUnescape(id); err == nil {
				acct, known = a.accounts[u]
			}
		}
		want := a.dummySecret
		if known {
			want = acct.secretHash
		}
		match := secretMatches(want, secret)
		if u, err := url.QueryUnescape(secret); err == nil {
			match |= secretMatches(want, u)
		}
		if known && match == 1 {
			return acct, true
		}
	}
	a.log.InfoContext(r.Context(), "oauth: client authentication failed", slog.String("clientId", id), slog.String("remote", r.RemoteAddr))
	w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
	writeOAuthError(w, http.StatusUnauthorized, oauthInvalidClient, "Invalid credentials provided.")
	return nil, false
}

func secretMatches(want [sha256.Size]byte, candidate string) int {
	got := sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(want[:], got[:])
}

// readForm reads an application/x-www-form-urlencoded body (bounded); on
// failure it writes 400 invalid_request. Parameters in the query string
// are ignored.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "The body must be application/x-www-form-urlencoded.")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "The request body could not be parsed.")
		return nil, false
	}
	return r.PostForm, true
}

func (a *Authenticator) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "oauth: server error", slog.Any("error", err))
	writeOAuthError(w, http.StatusInternalServerError, oauthServerError, "Unexpected error.")
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, ErrorDescription: desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","error_description":"Unexpected error."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
