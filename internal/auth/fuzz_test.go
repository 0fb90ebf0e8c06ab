package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// newFuzzEnv is a replica on SQLite for fuzz targets (fuzzing runs many
// inputs per second; PostgreSQL adds nothing to a parser's coverage).
func newFuzzEnv(f *testing.F) *env {
	return start(f, filepath.Join(f.TempDir(), "fuzz.db"), Options{})
}

func FuzzParseAuthorization(f *testing.F) {
	e := newFuzzEnv(f)
	k := keyByName(f, "readonly")
	uri := groupPath + "?pretty=false&itemsPerPage=5"
	valid := digestParams{user: k.public, pass: k.private, method: "GET", uri: uri, nonce: fetchNonce(f, e), nc: 1}.header()
	for _, seed := range []string{
		valid,
		`Digest username="pub", realm="MMS Public API", nonce="AAAA", uri="/x?y", response="0123456789abcdef0123456789abcdef", algorithm="MD5", qop=auth, nc=00000001, cnonce="abcdef0123456789"`,
		`Digest username="a\"b", realm="MMS Public API",,, nonce=x , uri="/"`,
		`Digest realm="unterminated`,
		`Digest a=b=c`,
		`Bearer QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU2Nzg5`,
		`Bearer a.b.c==`,
		`Basic dXNlcjpwYXNz`,
		`digest USERNAME=x`,
		"Digest username=\"\x00\"",
		"",
		" ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err == nil {
			if a.Scheme == "" {
				t.Fatalf("parsed %q with an empty scheme", h)
			}
			if a.Params != nil && a.Token68 != "" {
				t.Fatalf("parsed %q as both params and token68", h)
			}
			for name := range a.Params {
				if name == "" || name != strings.ToLower(name) {
					t.Fatalf("parsed %q with parameter name %q", h, name)
				}
			}
		}
		// The whole Authenticate path: never a panic, never a 5xx, a
		// challenge on every 401. Header values with bytes net/http would
		// refuse to send are still possible from other servers in front.
		req := httptest.NewRequest(http.MethodGet, uri, nil)
		req.Header.Set("Authorization", h)
		req.RemoteAddr = "127.0.0.1:40000"
		w := httptest.NewRecorder()
		p, aerr := e.a.Authenticate(w, req)
		switch {
		case aerr == nil && p == nil:
			t.Fatal("neither a principal nor an error")
		case aerr != nil && aerr.Status != http.StatusUnauthorized && aerr.Status != http.StatusForbidden:
			t.Fatalf("%q: status %d", h, aerr.Status)
		case aerr != nil && aerr.Status == http.StatusUnauthorized && !challengePattern.MatchString(w.Header().Get("WWW-Authenticate")):
			t.Fatalf("%q: 401 without a proper challenge: %q", h, w.Header().Get("WWW-Authenticate"))
		}
	})
}

func FuzzTokenEndpoint(f *testing.F) {
	e := newFuzzEnv(f)
	acct := accountByID(f, "mdb_sa_id_other")
	basic := func(u, p string) string {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.SetBasicAuth(u, p)
		return r.Header.Get("Authorization")
	}
	const form = "application/x-www-form-urlencoded"
	f.Add(http.MethodPost, form, basic(acct.id, acct.secret), "grant_type=client_credentials", false)
	f.Add(http.MethodPost, form, basic(acct.id, acct.secret), "token=abc&token_type_hint=access_token", true)
	f.Add(http.MethodPost, form+"; charset=utf-8", basic(acct.id, acct.secret), "grant_type=password", false)
	f.Add(http.MethodPost, "application/json", basic(acct.id, "x"), `{"grant_type":"client_credentials"}`, false)
	f.Add(http.MethodGet, "", "", "", false)
	f.Add(http.MethodPost, form, "Basic !!!", "grant_type=%zz&&&;", true)
	f.Add(http.MethodPut, "multipart/form-data; boundary=x", "Bearer x", "--x--", false)
	token, revoke := e.a.TokenHandler(), e.a.RevokeHandler()
	f.Fuzz(func(t *testing.T, method, contentType, authorization, body string, toRevoke bool) {
		req := httptest.NewRequest(http.MethodPost, "/api/oauth/token", strings.NewReader(body))
		req.Method = method
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", authorization)
		w := httptest.NewRecorder()
		h := token
		if toRevoke {
			h = revoke
		}
		h.ServeHTTP(w, req)
		if w.Code < 200 || w.Code >= 500 || (w.Code >= 300 && w.Code < 400) {
			t.Fatalf("status %d for %s %q %q %q", w.Code, method, contentType, authorization, body)
		}
		if toRevoke && w.Code == http.StatusOK {
			return // empty body by design
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("status %d with non-JSON body %q", w.Code, w.Body.String())
		}
		if w.Code == http.StatusOK {
			if m["token_type"] != "Bearer" || m["access_token"] == "" {
				t.Fatalf("200 body %v", m)
			}
		} else if m["error"] == "" || m["error_description"] == "" {
			t.Fatalf("%d body %v", w.Code, m)
		}
	})
}
