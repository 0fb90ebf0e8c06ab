package auth

import (
	"context"
	"crypto/md5" //nolint:gosec // digest test vectors
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

// Identities of the test configuration.
const (
	orgA   = "0a0000000000000000000001"
	orgB   = "0a0000000000000000000002"
	projA1 = "0b0000000000000000000001"
	projA2 = "0b0000000000000000000002"
	projB1 = "0b0000000000000000000003"
)

// testKey is an API key of the test configuration.
type testKey struct {
	public, private string
	role            atlas.Role
	org, group      string
	accessList      []string
}

var testKeys = []testKey{
	{public: "readonly", private: "6f1c7e7a-1111-4d3b-9a55-readonly0001", role: atlas.GroupReadOnly, group: projA1},
	{public: "managerk", private: "6f1c7e7a-2222-4d3b-9a55-managerk0002", role: atlas.GroupBackupManager, group: projA1},
	{public: "orgowner", private: "6f1c7e7a-3333-4d3b-9a55-orgowner0003", role: atlas.OrgOwner, org: orgA},
	{public: "orgbownr", private: "6f1c7e7a-4444-4d3b-9a55-orgbownr0004", role: atlas.OrgOwner, org: orgB},
	{public: "denylist", private: "6f1c7e7a-5555-4d3b-9a55-denylist0005", role: atlas.GroupOwner, group: projA1, accessList: []string{"10.9.8.0/24"}},
	{public: "allowlst", private: "6f1c7e7a-6666-4d3b-9a55-allowlst0006", role: atlas.GroupOwner, group: projA1, accessList: []string{"10.9.8.0/24", "127.0.0.0/8", "::1"}},
}

// testAccount is a service account of the test configuration.
type testAccount struct {
	id, secret string
	role       atlas.Role
	org, group string
	accessList []string
}

var testAccounts = []testAccount{
	// The secret has characters that form-urlencoding changes, as the SDK
	// encodes Basic credentials that way.
	{id: "mdb_sa_id_owner", secret: "mdb_sa_sk_owner+/=%&secret", role: atlas.GroupOwner, group: projA1},
	{id: "mdb_sa_id_other", secret: "mdb_sa_sk_other", role: atlas.GroupReadOnly, group: projA1},
	{id: "mdb_sa_id_acl", secret: "mdb_sa_sk_acl", role: atlas.GroupOwner, group: projA1, accessList: []string{"10.9.8.7"}},
	{id: "mdb_sa_id_orgb", secret: "mdb_sa_sk_orgb", role: atlas.OrgOwner, org: orgB},
}

func keyByName(t testing.TB, public string) testKey {
	for _, k := range testKeys {
		if k.public == public {
			return k
		}
	}
	t.Fatalf("no test key %s", public)
	return testKey{}
}

func accountByID(t testing.TB, id string) testAccount {
	for _, a := range testAccounts {
		if a.id == id {
			return a
		}
	}
	t.Fatalf("no test account %s", id)
	return testAccount{}
}

// writeConfig writes the test configuration (secrets in files, as the
// config requires references) and loads it.
func writeConfig(t testing.TB, dir string) *config.Config {
	t.Helper()
	var b strings.Builder
	secret := func(name, value string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file:" + p
	}
	role := func(r atlas.Role, org, group string) string {
		if org != "" {
			return fmt.Sprintf("      - {role: %s, orgId: %q}\n", r, org)
		}
		return fmt.Sprintf("      - {role: %s, groupId: %q}\n", r, group)
	}
	list := func(l []string) string {
		if len(l) == 0 {
			return ""
		}
		q := make([]string, len(l))
		for i, e := range l {
			q[i] = fmt.Sprintf("%q", e)
		}
		return "    accessList: [" + strings.Join(q, ", ") + "]\n"
	}
	// The database field is required by the config; these tests open their
	// store themselves.
	fmt.Fprintf(&b, "database: %q\n", filepath.Join(dir, "unused.db"))
	fmt.Fprintf(&b, "organizations:\n")
	fmt.Fprintf(&b, "  - id: %q\n    name: Org A\n    projects:\n      - {id: %q, name: A1}\n      - {id: %q, name: A2}\n", orgA, projA1, projA2)
	fmt.Fprintf(&b, "  - id: %q\n    name: Org B\n    projects:\n      - {id: %q, name: B1}\n", orgB, projB1)
	b.WriteString("apiKeys:\n")
	for _, k := range testKeys {
		fmt.Fprintf(&b, "  - publicKey: %s\n    privateKey: %q\n    roles:\n%s%s", k.public, secret("key-"+k.public, k.private), role(k.role, k.org, k.group), list(k.accessList))
	}
	b.WriteString("serviceAccounts:\n")
	for _, s := range testAccounts {
		fmt.Fprintf(&b, "  - clientId: %s\n    clientSecret: %q\n    roles:\n%s%s", s.id, secret("sa-"+s.id, s.secret), role(s.role, s.org, s.group), list(s.accessList))
	}
	path := filepath.Join(dir, "snapex.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("load test config: %v\n%s", err, b.String())
	}
	return cfg
}

// fakeClock is an adjustable clock shared by replicas of one test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// engines gives a fresh database per engine; tests that touch the store
// run on both.
var engines = map[string]func(t testing.TB) string{
	"sqlite":   func(t testing.TB) string { return filepath.Join(t.TempDir(), "snapex.db") },
	"postgres": func(t testing.TB) string { return testenv.Postgres(t) },
}

func forEachEngine(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { fn(t, engines[name](t)) })
	}
}

// env is one snapex replica under test: a store, an Authenticator and an
// HTTP server with a tiny API behind Authenticate and Authorize.
type env struct {
	t     testing.TB
	dsn   string
	cfg   *config.Config
	clock *fakeClock
	st    *store.Store
	a     *Authenticator
	srv   *httptest.Server
	// challenges counts responses that carried a WWW-Authenticate header.
	challenges atomic.Int64
}

// newEnv starts a replica on dsn; replicas of one test share cfg and clock.
func newEnv(t testing.TB, dsn string, cfg *config.Config, clock *fakeClock, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	opts.Now = clock.Now
	a, err := New(ctx, cfg, st, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := &env{t: t, dsn: dsn, cfg: cfg, clock: clock, st: st, a: a}
	e.srv = httptest.NewServer(e.handler())
	t.Cleanup(e.srv.Close)
	return e
}

// start builds a first replica with a fresh config and clock.
func start(t testing.TB, dsn string, opts Options) *env {
	t.Helper()
	return newEnv(t, dsn, writeConfig(t, t.TempDir()), &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}, opts)
}

// replica starts another replica sharing e's database, config and clock.
func (e *env) replica(opts Options) *env { return newEnv(e.t, e.dsn, e.cfg, e.clock, opts) }

// testOperationHeader selects the operation the test API authorizes
// (default listClusters).
const testOperationHeader = "X-Test-Operation"

func (e *env) handler() http.Handler {
	catalog := e.cfg.Catalog()
	api := func(w http.ResponseWriter, r *http.Request) {
		p, aerr := e.a.Authenticate(w, r)
		if aerr == nil {
			project, ok := catalog.Project(r.PathValue("groupId"))
			if !ok {
				aerr = atlas.ErrGroupNotFound(r.PathValue("groupId"))
			} else {
				op := atlas.Operation(r.Header.Get(testOperationHeader))
				if op == "" {
					op = atlas.OpListClusters
				}
				aerr = e.a.Authorize(p, op, project)
			}
		}
		if aerr != nil {
			if aerr.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				e.a.Challenge(w.Header())
			}
			renderError(w, aerr)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"kind": p.Kind, "id": p.ID, "body": string(body)})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/atlas/v2/groups/{groupId}/clusters", api)
	mux.HandleFunc("/api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/snapshots", api)
	mux.Handle("/api/oauth/token", e.a.TokenHandler())
	mux.Handle("/api/oauth/revoke", e.a.RevokeHandler())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if w.Header().Get("WWW-Authenticate") != "" {
			e.challenges.Add(1)
		}
	})
}

// apiError is an ApiError body as the test API renders it.
type apiError struct {
	Detail     string    `json:"detail"`
	Error      int       `json:"error"`
	ErrorCode  string    `json:"errorCode"`
	Parameters *[]string `json:"parameters"`
	Reason     string    `json:"reason"`
}

func renderError(w http.ResponseWriter, e *atlas.Error) {
	body := map[string]any{"detail": e.Detail, "error": e.Status, "errorCode": e.Code, "reason": http.StatusText(e.Status)}
	if e.Params != nil {
		body["parameters"] = e.Params
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Error-Code", string(e.Code))
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// okBody is what the test API answers on success.
type okBody struct {
	Kind, ID, Body string
}

func clustersURL(e *env, group string) string {
	return e.srv.URL + "/api/atlas/v2/groups/" + group + "/clusters?pretty=false&itemsPerPage=5"
}

// do sends req with c and decodes the answer.
func do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, okBody, apiError) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var ok okBody
	var ae apiError
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &ok); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	} else if err := json.Unmarshal(raw, &ae); err != nil {
		t.Fatalf("decode error body %q: %v", raw, err)
	}
	return resp, ok, ae
}

func get(t testing.TB, c *http.Client, url string, hdr ...string) (*http.Response, okBody, apiError) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

var challengePattern = regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="([A-Za-z0-9+/]{32})", algorithm=(MD5|SHA-256), qop="auth", stale=(true|false)$`)

// challengeOf checks the WWW-Authenticate header of a 401 and returns its
// nonce and stale flag.
func challengeOf(t testing.TB, resp *http.Response) (nonce string, stale bool) {
	t.Helper()
	vals := resp.Header.Values("WWW-Authenticate")
	if len(vals) != 1 {
		t.Fatalf("WWW-Authenticate headers = %q, want exactly one", vals)
	}
	m := challengePattern.FindStringSubmatch(vals[0])
	if m == nil {
		t.Fatalf("challenge %q is not in Atlas's form", vals[0])
	}
	return m[1], m[3] == "true"
}

// assertNotAuthenticated checks the 401 Atlas sends for bad credentials.
func assertNotAuthenticated(t testing.TB, resp *http.Response, ae apiError) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized || ae.ErrorCode != "UNEXPECTED_ERROR" || ae.Detail != "You are not authorized for this resource." ||
		ae.Error != 401 || ae.Reason != "Unauthorized" || ae.Parameters != nil {
		t.Fatalf("got %d %+v, want 401 UNEXPECTED_ERROR \"You are not authorized for this resource.\"", resp.StatusCode, ae)
	}
	challengeOf(t, resp)
}

// digestParams are the inputs of a hand-made digest Authorization header.
type digestParams struct {
	user, pass, method, uri, nonce, alg, cnonce, qop, realm string
	nc                                                      uint32
}

// header computes the response independently of the code under test and
// formats the header as the SDK's client does.
func (d digestParams) header() string {
	if d.alg == "" {
		d.alg = "MD5"
	}
	if d.cnonce == "" {
		d.cnonce = "0a4f113b0a4f113b"
	}
	if d.qop == "" {
		d.qop = "auth"
	}
	if d.realm == "" {
		d.realm = Realm
	}
	var h func() hash.Hash = md5.New
	if strings.HasPrefix(strings.ToUpper(d.alg), "SHA-256") {
		h = sha256.New
	}
	H := func(s string) string { x := h(); x.Write([]byte(s)); return hex.EncodeToString(x.Sum(nil)) }
	ha1 := H(d.user + ":" + d.realm + ":" + d.pass)
	if strings.HasSuffix(strings.ToLower(d.alg), "-sess") {
		ha1 = H(ha1 + ":" + d.nonce + ":" + d.cnonce)
	}
	nc := fmt.Sprintf("%08x", d.nc)
	resp := H(ha1 + ":" + d.nonce + ":" + nc + ":" + d.cnonce + ":" + d.qop + ":" + H(d.method+":"+d.uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="%s", qop=%s, nc=%s, cnonce="%s"`,
		d.user, d.realm, d.nonce, d.uri, resp, d.alg, d.qop, nc, d.cnonce)
}

// fetchNonce asks e for a challenge and returns its nonce.
func fetchNonce(t testing.TB, e *env) string {
	t.Helper()
	resp, _, ae := get(t, http.DefaultClient, clustersURL(e, projA1))
	assertNotAuthenticated(t, resp, ae)
	n, stale := challengeOf(t, resp)
	if stale {
		t.Fatal("fresh challenge has stale=true")
	}
	return n
}
