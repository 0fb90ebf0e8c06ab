package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
	"github.com/snapex/snapex/internal/apitest"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/auth"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/httpapi"
	"github.com/snapex/snapex/internal/httpapi/authgate"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/storerepo"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

// Fixture ids: organization A owns projects P1 and P2; organization B owns P3.
const (
	orgA          = "a0000000000000000000000a"
	orgB          = "b0000000000000000000000b"
	groupP1       = "100000000000000000000001"
	groupP2       = "100000000000000000000002"
	groupP3       = "100000000000000000000003"
	awsRole       = "c00000000000000000000001"
	azureRole     = "c00000000000000000000002"
	gcpRole       = "c00000000000000000000003"
	p3AWSRole     = "c00000000000000000000004"
	ownerKey      = "ownerkey"
	ownerPriv     = "11111111-2222-3333-4444-555555555555"
	orgBKey       = "orgbkeyy"
	orgBPriv      = "66666666-2222-3333-4444-555555555555"
	readKey       = "readonly"
	readPriv      = "77777777-2222-3333-4444-555555555555"
	benchSA       = "mdb_sa_id_bench"
	benchSASecret = "mdb_sa_sk_bench"
)

const fixtureConfig = `
database: %s
organizations:
  - id: ` + orgA + `
    name: Org A
    projects:
      - id: ` + groupP1 + `
        name: Project One
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
            labels: [{key: env, value: test}]
            mongoDBVersion: 7.0.14
          - name: Sharded0
            type: SHARDED
            replicaSets:
              - {name: shard0, uri: "mongodb://127.0.0.1:1"}
              - {name: shard1, uri: "mongodb://127.0.0.1:1"}
              - {name: configRS, uri: "mongodb://127.0.0.1:1", configServer: true}
        accessRoles:
          - {id: ` + awsRole + `, provider: AWS, local: {directory: buckets/aws}}
          - {id: ` + azureRole + `, provider: AZURE, local: {directory: buckets/azure}}
          - {id: ` + gcpRole + `, provider: GCP, local: {directory: buckets/gcp}}
      - id: ` + groupP2 + `
        name: Project Two
  - id: ` + orgB + `
    name: Org B
    projects:
      - id: ` + groupP3 + `
        name: Project Three
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: ` + p3AWSRole + `, provider: AWS, local: {directory: buckets/p3}}
apiKeys:
  - publicKey: ` + ownerKey + `
    privateKey: file:secrets/owner
    roles: [{role: ORG_OWNER, orgId: ` + orgA + `}]
  - publicKey: ` + orgBKey + `
    privateKey: file:secrets/orgb
    roles: [{role: ORG_OWNER, orgId: ` + orgB + `}]
  - publicKey: ` + readKey + `
    privateKey: file:secrets/read
    roles: [{role: GROUP_READ_ONLY, groupId: ` + groupP1 + `}]
serviceAccounts:
  - clientId: ` + benchSA + `
    clientSecret: file:secrets/sa
    roles: [{role: GROUP_OWNER, groupId: ` + groupP1 + `}]
`

// env is a running API over a real store and real authentication.
type env struct {
	t     testing.TB
	url   string
	store *store.Store
	cfg   *config.Config
	check *apitest.Transport
	// logs holds the server's JSON log lines.
	logs *logBuffer
	// handler is the whole API, for in-process requests (fuzzing).
	handler http.Handler
}

func newEnv(t testing.TB, engine string) *env { return newEnvWith(t, engine, nil) }

// newEnvWith lets a test adjust the server (e.g. set a rate limiter).
func newEnvWith(t testing.TB, engine string, adjust func(*httpapi.Server)) *env {
	t.Helper()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "snapex.db")
	if engine == "postgres" {
		dsn = testenv.Postgres(t)
	}
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"owner": ownerPriv, "orgb": orgBPriv, "read": readPriv, "sa": benchSASecret} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "snapex.yaml")
	cfg, err := config.Parse(path, []byte(fmt.Sprintf(fixtureConfig, dsn)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	authn, err := auth.New(ctx, cfg, st, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	api := &httpapi.Server{
		Service: &service.Service{Repo: &storerepo.Repo{Store: st}, Catalog: cfg.Catalog(), Log: log},
		Gate:    authgate.New(authn), Log: log,
		Extra: map[string]http.Handler{"POST /api/oauth/token": authn.TokenHandler()},
	}
	if adjust != nil {
		adjust(api)
	}
	handler := httpapi.Instrument(api.Handler(), log, nil)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, store: st, cfg: cfg, check: apitest.NewTransport(t, nil), handler: handler, logs: logs}
}

// response is a decoded exchange.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r response) str(key string) string { s, _ := r.body[key].(string); return s }

func (r response) code() string { return r.str("errorCode") }

// do sends a request as the owner key of organization A.
func (e *env) do(method, path, version string, body any) response {
	return e.doAs(ownerKey, ownerPriv, method, path, version, body)
}

func (e *env) doAs(user, pass, method, path, version string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	var buf []byte
	if rd != nil {
		buf, _ = io.ReadAll(rd)
	}
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(buf))
	if err != nil {
		e.t.Fatal(err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	if version != "" {
		req.Header.Set("Accept", "application/vnd.atlas."+version+"+json")
		if body != nil {
			req.Header.Set("Content-Type", "application/vnd.atlas."+version+"+json")
		}
	}
	client := &http.Client{Transport: &digest.Transport{Username: user, Password: pass, Transport: e.check}, Timeout: 30 * time.Second}
	resp, err := client.Do(req)
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

func (e *env) expect(r response, status int, code string) {
	e.t.Helper()
	if r.status != status || (code != "" && r.code() != code) {
		e.t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code(), status, code, r.raw)
	}
}

var snapT0 = time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)

// addSnapshot inserts a snapshot row directly (taking snapshots is a later
// feature); sharded snapshots get one member per replica set.
func (e *env) addSnapshot(group, cluster string, kind atlas.SnapshotKind, status atlas.SnapshotStatus, at time.Time) *atlas.Snapshot {
	e.t.Helper()
	sn := &atlas.Snapshot{
		ID: atlas.NewObjectID(at), GroupID: group, ClusterName: cluster, Kind: kind, Status: status,
		SnapshotType: "onDemand", FrequencyType: "ondemand", Description: "fixture", MongodVersion: "7.0.14",
		StorageSizeBytes: 4096, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour), ReplicaSetName: "rs0",
	}
	if kind == atlas.ShardedClusterSnapshot {
		sn.ReplicaSetName = ""
		for _, rs := range []string{"shard0", "shard1", "configRS"} {
			sn.Members = append(sn.Members, atlas.SnapshotMember{ID: atlas.NewObjectID(at), ReplicaSetName: rs})
		}
	}
	if err := e.store.CreateSnapshot(context.Background(), sn); err != nil {
		e.t.Fatal(err)
	}
	return sn
}

func groupPath(group string) string { return "/api/atlas/v2/groups/" + group }

// doRaw sends a request as the owner key with exactly the given headers.
func (e *env) doRaw(method, path string, headers map[string]string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: &digest.Transport{Username: ownerKey, Password: ownerPriv, Transport: e.check}}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}
