package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"go.mongodb.org/atlas-sdk/v20250312020/auth/clientcredentials"
	"golang.org/x/oauth2"
)

// sdkOAuth is the Atlas SDK's client-credentials configuration pointed at e.
func sdkOAuth(e *env, id, secret string) *clientcredentials.Config {
	c := clientcredentials.NewConfig(id, secret)
	c.TokenURL = e.srv.URL + clientcredentials.TokenAPIPath
	c.RevokeURL = e.srv.URL + clientcredentials.RevokeAPIPath
	return c
}

// tokenRequest posts to the token endpoint by hand.
func tokenRequest(t testing.TB, e *env, basicUser, basicPass, contentType, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/oauth/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if basicUser != "" || basicPass != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON %q", resp.StatusCode, raw)
	}
	return resp, m
}

func bearerGet(t testing.TB, e *env, tok, group string) (*http.Response, okBody, apiError) {
	t.Helper()
	return get(t, http.DefaultClient, clustersURL(e, group), "Authorization", "Bearer "+tok)
}

func TestTokenWithSDKClient(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		e := start(t, dsn, Options{})
		acct := accountByID(t, "mdb_sa_id_owner")
		cfg := sdkOAuth(e, acct.id, acct.secret)
		ctx := context.Background()
		c := cfg.Client(ctx)
		resp, ok, ae := get(t, c, clustersURL(e, projA1))
		if resp.StatusCode != http.StatusOK || ok.Kind != KindServiceAccount || ok.ID != acct.id {
			t.Fatalf("SDK OAuth client: %d %+v %+v", resp.StatusCode, ok, ae)
		}
		tok, err := cfg.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
			t.Fatalf("token = %+v", tok)
		}
		if resp, _, ae := bearerGet(t, e, tok.AccessToken, projA1); resp.StatusCode != http.StatusOK {
			t.Fatalf("bearer: %d %+v", resp.StatusCode, ae)
		}
		if err := cfg.RevokeToken(ctx, tok); err != nil {
			t.Fatalf("SDK revoke: %v", err)
		}
		resp, _, ae = bearerGet(t, e, tok.AccessToken, projA1)
		assertNotAuthenticated(t, resp, ae) // revoked: 401 with the digest challenge too
	})
}

func TestTokenResponseShape(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	acct := accountByID(t, "mdb_sa_id_other")
	// Plain (not form-encoded) Basic credentials, as curl sends them.
	resp, m := tokenRequest(t, e, acct.id, acct.secret, "application/x-www-form-urlencoded", "grant_type=client_credentials")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", resp.StatusCode, m)
	}
	if len(m) != 3 || m["token_type"] != "Bearer" || m["expires_in"] != float64(3600) {
		t.Fatalf("body = %v", m)
	}
	tok, _ := m["access_token"].(string)
	if len(tok) < 40 {
		t.Fatalf("access_token %q too short", tok)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q", cc)
	}
	// The token is stored hashed, never in clear.
	var stored string
	if err := e.st.DB().QueryRow(`SELECT token_hash FROM auth_tokens`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(tok))
	if stored != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored %q, want the SHA-256 of the token", stored)
	}
	// The read-only account may read but not manage.
	if resp, ok, ae := bearerGet(t, e, tok, projA1); resp.StatusCode != http.StatusOK || ok.ID != acct.id {
		t.Fatalf("bearer: %d %+v", resp.StatusCode, ae)
	}
	resp2, _, ae := get(t, http.DefaultClient, clustersURL(e, projA1), "Authorization", "Bearer "+tok, testOperationHeader, string(atlas.OpCreateExportBucket))
	if resp2.StatusCode != http.StatusUnauthorized || ae.ErrorCode != "USER_UNAUTHORIZED" {
		t.Fatalf("role too low: %d %+v", resp2.StatusCode, ae)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	acct := accountByID(t, "mdb_sa_id_other")
	const form = "application/x-www-form-urlencoded"
	type want struct {
		status     int
		code, desc string
	}
	invalidClient := want{401, "invalid_client", "Invalid credentials provided."}
	cases := map[string]struct {
		user, pass, ct, body string
		want                 want
	}{
		"no credentials":      {"", "", form, "grant_type=client_credentials", invalidClient},
		"wrong secret":        {acct.id, acct.secret + "x", form, "grant_type=client_credentials", invalidClient},
		"unknown client":      {"mdb_sa_id_nobody", acct.secret, form, "grant_type=client_credentials", invalidClient},
		"api key as client":   {"readonly", keyByName(t, "readonly").private, form, "grant_type=client_credentials", invalidClient},
		"missing grant_type":  {acct.id, acct.secret, form, "scope=x", want{400, "invalid_request", ""}},
		"empty grant_type":    {acct.id, acct.secret, form, "grant_type=", want{400, "invalid_request", ""}},
		"repeated grant_type": {acct.id, acct.secret, form, "grant_type=client_credentials&grant_type=client_credentials", want{400, "invalid_request", ""}},
		"password grant":      {acct.id, acct.secret, form, "grant_type=password&username=a&password=b", want{400, "unsupported_grant_type", ""}},
		"json body":           {acct.id, acct.secret, "application/json", `{"grant_type":"client_credentials"}`, want{400, "invalid_request", ""}},
		"no content type":     {acct.id, acct.secret, "", "grant_type=client_credentials", want{400, "invalid_request", ""}},
		"bad form encoding":   {acct.id, acct.secret, form, "grant_type=%zz", want{400, "invalid_request", ""}},
		"body too large":      {acct.id, acct.secret, form, "grant_type=client_credentials&x=" + strings.Repeat("a", maxFormBody), want{400, "invalid_request", ""}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp, m := tokenRequest(t, e, c.user, c.pass, c.ct, c.body)
			if resp.StatusCode != c.want.status || m["error"] != c.want.code || len(m) != 2 {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, m, c.want.status, c.want.code)
			}
			if c.want.desc != "" && m["error_description"] != c.want.desc {
				t.Fatalf("error_description = %v, want %q", m["error_description"], c.want.desc)
			}
			if d, _ := m["error_description"].(string); d == "" {
				t.Fatal("empty error_description")
			}
			if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("401 without a Basic challenge: %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	resp, err := http.Get(e.srv.URL + "/api/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Fatalf("GET: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// The SDK's client surfaces invalid_client as an oauth2 error.
	_, err = sdkOAuth(e, acct.id, "wrong").Token(context.Background())
	var re *oauth2.RetrieveError
	if err == nil || !asRetrieveError(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SDK error = %v", err)
	}
}

func asRetrieveError(err error, target **oauth2.RetrieveError) bool {
	for err != nil {
		if re, ok := err.(*oauth2.RetrieveError); ok {
			*target = re
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestTokenExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		e := start(t, dsn, Options{})
		acct := accountByID(t, "mdb_sa_id_owner")
		tok, err := sdkOAuth(e, acct.id, acct.secret).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour - time.Second)
		if resp, _, ae := bearerGet(t, e, tok.AccessToken, projA1); resp.StatusCode != http.StatusOK {
			t.Fatalf("before expiry: %d %+v", resp.StatusCode, ae)
		}
		e.clock.Advance(time.Second)
		resp, _, ae := bearerGet(t, e, tok.AccessToken, projA1)
		assertNotAuthenticated(t, resp, ae)
		// Once expired long enough, the row is purged.
		e.clock.Advance(2 * time.Minute)
		resp, _, ae = bearerGet(t, e, tok.AccessToken, projA1)
		assertNotAuthenticated(t, resp, ae)
		var n int
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM auth_tokens`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d tokens left (err %v), want the expired one purged", n, err)
		}
	})
}

func TestTokenSurvivesRestartAndRevocationReachesReplicas(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		a := start(t, dsn, Options{})
		acct := accountByID(t, "mdb_sa_id_owner")
		ctx := context.Background()
		cfg := sdkOAuth(a, acct.id, acct.secret)
		tok, err := cfg.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// "Restart": close the first replica's store and server, start anew.
		a.srv.Close()
		a.st.Close()
		b := a.replica(Options{})
		if resp, ok, ae := bearerGet(t, b, tok.AccessToken, projA1); resp.StatusCode != http.StatusOK || ok.ID != acct.id {
			t.Fatalf("after restart: %d %+v", resp.StatusCode, ae)
		}
		c := b.replica(Options{})
		// Revoking at replica c is seen by replica b.
		if err := sdkOAuth(c, acct.id, acct.secret).RevokeToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		resp, _, ae := bearerGet(t, b, tok.AccessToken, projA1)
		assertNotAuthenticated(t, resp, ae)
	})
}

func TestRevokeOnlyOwnTokens(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	owner := accountByID(t, "mdb_sa_id_owner")
	other := accountByID(t, "mdb_sa_id_other")
	ctx := context.Background()
	tok, err := sdkOAuth(e, owner.id, owner.secret).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revoke := func(user, pass, body string) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/oauth/revoke", strings.NewReader(body))
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	form := url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}.Encode()
	if st := revoke(other.id, other.secret, form); st != http.StatusOK {
		t.Fatalf("revoke by another client: %d, want 200 (treated as unknown)", st)
	}
	if resp, _, ae := bearerGet(t, e, tok.AccessToken, projA1); resp.StatusCode != http.StatusOK {
		t.Fatalf("another client revoked the token: %d %+v", resp.StatusCode, ae)
	}
	if st := revoke("", "", form); st != http.StatusUnauthorized {
		t.Fatalf("revoke without client auth: %d", st)
	}
	if st := revoke(owner.id, owner.secret, "token_type_hint=access_token"); st != http.StatusBadRequest {
		t.Fatalf("revoke without token: %d", st)
	}
	if st := revoke(owner.id, owner.secret, "token=unknown-token"); st != http.StatusOK {
		t.Fatalf("revoke of an unknown token: %d", st)
	}
	if st := revoke(owner.id, owner.secret, form); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	resp, _, ae := bearerGet(t, e, tok.AccessToken, projA1)
	assertNotAuthenticated(t, resp, ae)
}

func TestBearerRejections(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	random := base64.RawURLEncoding.EncodeToString(make([]byte, tokenBytes))
	for _, tok := range []string{random, "short", strings.Repeat("A", 44), random + "="} {
		resp, _, ae := bearerGet(t, e, tok, projA1)
		assertNotAuthenticated(t, resp, ae)
	}
	// A service account of organization B gets nothing of organization A.
	b := accountByID(t, "mdb_sa_id_orgb")
	tok, err := sdkOAuth(e, b.id, b.secret).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, _, ae := bearerGet(t, e, tok.AccessToken, projA1)
	assertNotAuthenticated(t, resp, ae)
	if resp, _, ae := bearerGet(t, e, tok.AccessToken, projB1); resp.StatusCode != http.StatusOK {
		t.Fatalf("own organization: %d %+v", resp.StatusCode, ae)
	}
}

func TestServiceAccountAccessList(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	acct := accountByID(t, "mdb_sa_id_acl")
	// Obtaining a token works from anywhere; using it is checked.
	tok, err := sdkOAuth(e, acct.id, acct.secret).Token(context.Background())
	if err != nil {
		t.Fatalf("token from outside the access list: %v", err)
	}
	resp, _, ae := bearerGet(t, e, tok.AccessToken, projA1)
	if resp.StatusCode != http.StatusForbidden || ae.ErrorCode != "IP_ADDRESS_NOT_ON_ACCESS_LIST" || !strings.Contains(ae.Detail, "127.0.0.1") {
		t.Fatalf("got %d %+v", resp.StatusCode, ae)
	}
}

func TestSecretsNeverStored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		e := start(t, dsn, Options{})
		ctx := context.Background()
		var issued []string
		for _, s := range testAccounts {
			tok, err := sdkOAuth(e, s.id, s.secret).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			issued = append(issued, tok.AccessToken)
		}
		for _, k := range testKeys {
			get(t, clients["mongodb-forks"](k.public, k.private), clustersURL(e, projA1))
		}
		var dump strings.Builder
		for _, table := range []string{"auth_secrets", "auth_nonce_uses", "auth_tokens"} {
			rows, err := e.st.DB().QueryContext(ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			n := 0
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for _, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					fmt.Fprintf(&dump, "%v|", v)
				}
				n++
			}
			rows.Close()
			if n == 0 {
				t.Fatalf("table %s is empty; the test would prove nothing", table)
			}
		}
		secrets := issued
		for _, k := range testKeys {
			secrets = append(secrets, k.private)
		}
		for _, s := range testAccounts {
			secrets = append(secrets, s.secret, url.QueryEscape(s.secret))
		}
		for _, s := range secrets {
			if strings.Contains(dump.String(), s) {
				t.Fatalf("secret %q found in the database", s)
			}
		}
	})
}
