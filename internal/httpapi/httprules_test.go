package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/icholy/digest"
)

// send makes one request with exactly the given headers and body; user ""
// sends no credentials at all.
func (e *env) send(user, pass, method, path string, headers map[string]string, body []byte) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var rt http.RoundTripper = e.check
	if user != "" {
		rt = &digest.Transport{Username: user, Password: pass, Transport: e.check}
	}
	resp, err := (&http.Client{Transport: rt, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

func TestMethodNotAllowedCarriesAllow(t *testing.T) {
	e := newEnv(t, "sqlite")
	id := e.newAWSBucket("allow-header")
	cases := map[string]string{
		groupPath(groupP1) + bucketsPath:                                 "GET, HEAD, POST, OPTIONS",
		groupPath(groupP1) + bucketsPath + "/" + id:                      "GET, HEAD, PATCH, DELETE, OPTIONS",
		groupPath(groupP1) + "/clusters/Cluster0/backup/exports/" + id:   "GET, HEAD, DELETE, OPTIONS",
		"/api/atlas/v1.0/groups/" + groupP1 + bucketsPath + "/" + id:     "GET, HEAD, DELETE, OPTIONS",
		"/api/atlas/v1.0/groups/" + groupP1 + "/clusters/Cluster0":       "GET, HEAD, OPTIONS",
		groupPath(groupP1) + "/clusters/Cluster0/backup/snapshots/" + id: "GET, HEAD, PATCH, DELETE, OPTIONS",
	}
	for path, allow := range cases {
		r := e.send(ownerKey, ownerPriv, "PUT", path, map[string]string{"Accept": "application/vnd.atlas.2024-05-30+json"}, nil)
		e.expect(r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		if got := r.header.Get("Allow"); got != allow {
			t.Errorf("PUT %s: Allow %q, want %q", path, got, allow)
		}
		o := e.send(ownerKey, ownerPriv, "OPTIONS", path, nil, nil)
		if o.status != http.StatusNoContent || o.header.Get("Allow") != allow || len(o.raw) != 0 {
			t.Errorf("OPTIONS %s: %d Allow %q body %q, want 204 Allow %q", path, o.status, o.header.Get("Allow"), o.raw, allow)
		}
	}
	// OPTIONS on an unknown path is a 404, and without credentials a 401.
	e.expect(e.send(ownerKey, ownerPriv, "OPTIONS", groupPath(groupP1)+"/nothing/here", nil, nil), http.StatusNotFound, "RESOURCE_NOT_FOUND")
	r := e.send("", "", "OPTIONS", groupPath(groupP1)+bucketsPath, nil, nil)
	if r.status != http.StatusUnauthorized || r.header.Get("Allow") != "" {
		t.Fatalf("OPTIONS without credentials: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	e := newEnv(t, "sqlite")
	body := []byte(`{"cloudProvider":"AWS","bucketName":"media-type","iamRoleId":"` + awsRole + `"}`)
	accept := "application/vnd.atlas.2024-05-30+json"
	for _, path := range []string{groupPath(groupP1) + bucketsPath, "/api/atlas/v1.0/groups/" + groupP1 + bucketsPath} {
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "", "application/xml", "application/jsonx", "garbage;;"} {
			r := e.send(ownerKey, ownerPriv, "POST", path, map[string]string{"Accept": accept, "Content-Type": ct}, body)
			e.expect(r, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
			if r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("415 Content-Type %q", r.header.Get("Content-Type"))
			}
		}
	}
	// Both JSON types, with parameters, are accepted.
	for i, ct := range []string{"application/json", "application/json; charset=utf-8", "application/vnd.atlas.2024-05-30+json", "Application/Vnd.Atlas.2024-05-30+JSON;charset=UTF-8"} {
		b := []byte(strings.Replace(string(body), "media-type", "media-type-"+string(rune('a'+i)), 1))
		e.expect(e.send(ownerKey, ownerPriv, "POST", groupPath(groupP1)+bucketsPath, map[string]string{"Accept": accept, "Content-Type": ct}, b), http.StatusOK, "")
	}
	// The media type is checked only once the caller is known.
	r := e.send("", "", "POST", groupPath(groupP1)+bucketsPath, map[string]string{"Accept": accept, "Content-Type": "text/plain"}, body)
	e.expect(r, http.StatusUnauthorized, "")
}

func TestBooleanQueryParameters(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newAWSBucket("bool-params")
	base := groupPath(groupP1) + bucketsPath
	accept := map[string]string{"Accept": "application/vnd.atlas.2024-05-30+json"}
	for _, q := range []string{"envelope=TRUE", "envelope=True", "envelope=true"} {
		r := e.send(ownerKey, ownerPriv, "GET", base+"?"+q, accept, nil)
		e.expect(r, 200, "")
		if r.body["status"] != 200.0 {
			t.Fatalf("%s: not enveloped: %s", q, r.raw)
		}
	}
	for _, q := range []string{"envelope=FALSE", "envelope=", "includeCount=False&pretty=false"} {
		r := e.send(ownerKey, ownerPriv, "GET", base+"?"+q, accept, nil)
		e.expect(r, 200, "")
		if _, ok := r.body["status"]; ok {
			t.Fatalf("%s: enveloped: %s", q, r.raw)
		}
		if _, ok := r.body["totalCount"]; ok == strings.Contains(q, "includeCount=False") {
			t.Fatalf("%s: totalCount presence wrong: %s", q, r.raw)
		}
	}
	for name, q := range map[string]string{"envelope": "envelope=1", "pretty": "pretty=yes", "includeCount": "includeCount=0"} {
		r := e.send(ownerKey, ownerPriv, "GET", base+"?"+q, accept, nil)
		e.expect(r, 400, "INVALID_QUERY_PARAMETER")
		if p, _ := r.body["parameters"].([]any); len(p) == 0 || p[0] != name {
			t.Fatalf("%s: parameters %v", q, r.body["parameters"])
		}
	}
	// A v1.0 route follows the same rule.
	r := e.send(ownerKey, ownerPriv, "GET", "/api/atlas/v1.0/groups/"+groupP1+"/clusters?pretty=maybe", map[string]string{"Accept": "application/json"}, nil)
	e.expect(r, 400, "INVALID_QUERY_PARAMETER")
}

func TestEchoedValuesAreCapped(t *testing.T) {
	e := newEnv(t, "sqlite")
	accept := map[string]string{"Accept": "application/vnd.atlas.2024-05-30+json", "Content-Type": "application/json"}
	// 200,000 characters of a two-byte letter: any byte cut risks splitting one.
	name := strings.Repeat("é", 200_000)
	body, _ := json.Marshal(map[string]string{"cloudProvider": "AWS", "bucketName": name, "iamRoleId": awsRole})
	r := e.send(ownerKey, ownerPriv, "POST", groupPath(groupP1)+bucketsPath, accept, body)
	if r.status != 400 || len(r.raw) > 2048 {
		t.Fatalf("200k name: %d, %d bytes", r.status, len(r.raw))
	}
	checkCapped(t, r)

	// Digest credentials name the URI, so a long path is sent with a
	// bearer token; the path is echoed in the 404.
	bearer := map[string]string{"Authorization": "Bearer " + bearerToken(t, e)}
	for _, long := range []string{strings.Repeat("ü", 30<<10), strings.Repeat("a", 600<<10)} {
		r = e.send("", "", "GET", groupPath(groupP1)+"/"+long, bearer, nil)
		if r.status != http.StatusNotFound || len(r.raw) > 2048 {
			t.Fatalf("%d-byte path: %d, %d bytes", len(long), r.status, len(r.raw))
		}
		checkCapped(t, r)
	}
	// With digest, a 60 KB path cannot carry valid credentials: 401, small.
	r = e.send(ownerKey, ownerPriv, "GET", groupPath(groupP1)+"/"+strings.Repeat("a", 60<<10), accept, nil)
	if r.status != http.StatusUnauthorized || len(r.raw) > 4096 {
		t.Fatalf("60 KB path with digest: %d, %d bytes", r.status, len(r.raw))
	}
	// A path beyond the server's header limit never reaches the API and
	// is still answered briefly.
	r = e.send("", "", "GET", groupPath(groupP1)+"/"+strings.Repeat("a", 1<<20), nil, nil)
	if r.status < 400 || len(r.raw) > 4096 {
		t.Fatalf("1 MB path: %d, %d bytes", r.status, len(r.raw))
	}
}

// checkCapped asserts the error's echoed values are cut to the documented
// bounds on character boundaries.
func checkCapped(t *testing.T, r response) {
	t.Helper()
	detail := r.str("detail")
	if !utf8.ValidString(detail) || len(detail) > 1024+len("…") {
		t.Fatalf("detail: %d bytes, valid UTF-8 %v", len(detail), utf8.ValidString(detail))
	}
	params, _ := r.body["parameters"].([]any)
	cut := false
	for _, p := range params {
		s, _ := p.(string)
		if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) || len(s) > 256+len("…") {
			t.Fatalf("parameter of %d bytes (valid UTF-8 %v)", len(s), utf8.ValidString(s))
		}
		cut = cut || strings.HasSuffix(s, "…")
	}
	if !cut && !strings.HasSuffix(detail, "…") {
		t.Fatalf("nothing marked as cut: %s", r.raw)
	}
}

func TestUnknownPathsAuthenticateFirst(t *testing.T) {
	e := newEnv(t, "sqlite")
	accept := map[string]string{"Accept": "application/vnd.atlas.2024-05-30+json"}
	paths := []struct{ method, path string }{
		{"GET", "/api/atlas/v2/groups/" + groupP1 + "/nothing"},
		{"GET", "/api/atlas/v2/nothing"},
		{"GET", "/api/atlas/v1.0/groups/" + groupP1 + "/nothing"},
		{"GET", "/api/atlas/v2/groups/" + groupP1 + "/clusters/../clusters"},
		{"PUT", groupPath(groupP1) + bucketsPath},
		{"TRACE", groupPath(groupP1) + "/clusters"},
	}
	for _, p := range paths {
		none := e.send("", "", p.method, p.path, accept, nil)
		wrong := e.send(ownerKey, "not-the-key", p.method, p.path, accept, nil)
		for _, r := range []response{none, wrong} {
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Digest ") || r.header.Get("Allow") != "" {
				t.Fatalf("%s %s without valid credentials: %d %q Allow %q", p.method, p.path, r.status, r.header.Get("WWW-Authenticate"), r.header.Get("Allow"))
			}
		}
		ok := e.send(ownerKey, ownerPriv, p.method, p.path, accept, nil)
		if ok.status != http.StatusNotFound && ok.status != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s with credentials: %d %s", p.method, p.path, ok.status, ok.raw)
		}
	}
	// Outside the API root nothing is protected.
	if r := e.send("", "", "GET", "/healthz", nil, nil); r.status != 200 {
		t.Fatalf("/healthz: %d", r.status)
	}
	if r := e.send("", "", "GET", "/elsewhere", nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("/elsewhere: %d", r.status)
	}
}
