package statuspage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/icholy/digest"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/auth"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/httpapi"
	"github.com/snapex/snapex/internal/httpapi/authgate"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/storerepo"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/statuspage"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

const (
	orgID     = "a0000000000000000000000a"
	groupID   = "100000000000000000000001"
	otherID   = "100000000000000000000002"
	localRole = "c00000000000000000000001"
	ownerKey  = "ownerkey"
	ownerPriv = "11111111-2222-3333-4444-555555555555"
	otherKey  = "otherkey"
	otherPriv = "66666666-2222-3333-4444-555555555555"
)

const fixtureConfig = `
database: %s
organizations:
  - id: ` + orgID + `
    name: Org
    projects:
      - id: ` + groupID + `
        name: Project One
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: ` + localRole + `, provider: AWS, local: {directory: buckets}}
      - id: ` + otherID + `
        name: Project Two
        clusters:
          - name: Other0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
apiKeys:
  - publicKey: ` + ownerKey + `
    privateKey: file:secrets/owner
    roles: [{role: GROUP_BACKUP_MANAGER, groupId: ` + groupID + `}]
  - publicKey: ` + otherKey + `
    privateKey: file:secrets/other
    roles: [{role: GROUP_READ_ONLY, groupId: ` + otherID + `}]
`

// env is the API with the status page over a real store and real
// authentication, a completed snapshot and a bucket.
type env struct {
	url    string
	store  *store.Store
	cfg    *config.Config
	snaps  snapshot.Storage
	snap   *atlas.Snapshot
	bucket *atlas.ExportBucket
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, docs int) *env {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"owner": ownerPriv, "other": otherPriv} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(fmt.Sprintf(fixtureConfig, filepath.Join(dir, "snapex.db"))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snaps, err := (&stores.Opener{}).OpenSnapshotStorage(context.Background(), config.SnapshotStorage{Directory: filepath.Join(dir, "snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, cfg: cfg, snaps: snaps, logs: &syncBuffer{}}
	created := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	id := atlas.NewObjectID(created)
	exporttest.WriteSnapshot(t, snaps, id, "Cluster0", created, []string{"rs0"}, map[string]int{"shop.orders": docs})
	e.snap = &atlas.Snapshot{ID: id, GroupID: groupID, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot, Status: atlas.SnapshotCompleted,
		SnapshotType: "onDemand", FrequencyType: "ondemand", CreatedAt: created, ReplicaSetName: "rs0", StorageSizeBytes: 12345}
	if err := st.CreateSnapshot(ctx, e.snap); err != nil {
		t.Fatal(err)
	}
	e.bucket = &atlas.ExportBucket{ID: atlas.NewObjectID(created), GroupID: groupID, BucketName: "status-exports", CloudProvider: atlas.AWS, RoleID: localRole, CreatedAt: created}
	if err := st.CreateBucket(ctx, e.bucket); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(ctx, cfg, st, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	svc := &service.Service{Repo: &storerepo.Repo{Store: st}, Catalog: cfg.Catalog(), Log: log}
	gate := authgate.New(authn)
	ui := &statuspage.Page{Service: svc, Gate: gate, Projects: cfg.Projects, Log: log, Refresh: 10 * time.Second}
	api := &httpapi.Server{Service: svc, Gate: gate, Log: log, Extra: map[string]http.Handler{"GET /ui": ui}}
	srv := httptest.NewServer(httpapi.Instrument(api.Handler(), log, nil))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// startExport creates an export job and runs it in the background,
// reading the snapshot slowly so that it runs for a while.
func (e *env) startExport(t *testing.T) *atlas.ExportJob {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	j := &atlas.ExportJob{ID: atlas.NewObjectID(now), GroupID: groupID, ClusterName: "Cluster0", SnapshotID: e.snap.ID,
		ExportBucketID: e.bucket.ID, State: atlas.ExportQueued, CreatedAt: now,
		Prefix: atlas.ExportPrefix(orgID, groupID, "Cluster0", e.snap.CreatedAt, now)}
	if err := e.store.CreateExportJob(context.Background(), j, nil); err != nil {
		t.Fatal(err)
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := &export.Engine{
		Store: e.store, Catalog: e.cfg.Catalog(), Destinations: &stores.Destinations{Catalog: e.cfg.Catalog(), Opener: &stores.Opener{}},
		Snapshots: slowStorage{e.snaps}, ChunkBytes: 64 << 10, Parallelism: 1, GzipLevel: 1, Log: discard,
		Runner: &jobs.Runner{Store: e.store, Owner: "status-test", Clock: time.Now, LeaseTTL: 3 * time.Second, Log: discard,
			Retry: jobs.Retry{MaxAttempts: 1, Backoff: time.Second, MaxBackoff: time.Second}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx, j.ID, false) }()
	t.Cleanup(func() { cancel(); <-done })
	return j
}

// waitRunning waits until job id is InProgress with some progress.
func (e *env) waitRunning(t *testing.T, id string) *atlas.ExportJob {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		j, err := e.store.ExportJobByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == atlas.ExportInProgress && j.Progress.Bytes > 0 {
			return j
		}
		if j.State.Terminal() {
			t.Fatalf("export ended %s before the page was loaded: %+v", j.State, j.StateReason)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the export did not start within 30s")
	return nil
}

// slowStorage reads collection data 4 KiB at a time with a pause before
// each read.
type slowStorage struct{ snapshot.Storage }

func (s slowStorage) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Storage.Open(ctx, key)
	if err != nil || !strings.Contains(key, ".bson") {
		return rc, err
	}
	return slowReader{rc}, nil
}

type slowReader struct{ io.ReadCloser }

func (r slowReader) Read(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return r.ReadCloser.Read(p[:min(len(p), 4<<10)])
}

// chromium finds Debian's chromium, failing the test with how to install
// it when it is missing.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: the status page is tested in a real headless browser; install it with `apt-get install -y chromium` (scripts/install-test-deps.sh does)")
	return ""
}

// TestStatusPageInChromium loads /ui in headless Chromium, answering the
// digest challenge as a browser does, while an export runs: the page shows
// the export InProgress with a progress bar between 0 and 100, its bucket
// and prefix, and only the projects the key may read. A screenshot is
// saved in the test's artifact directory.
func TestStatusPageInChromium(t *testing.T) {
	path := chromium(t)
	e := newEnv(t, 30000)
	job := e.startExport(t)
	e.waitRunning(t, job.ID)

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	answerDigest(t, bctx, ownerKey, ownerPriv)
	if _, err := chromedp.Call(bctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: new(true)}); err != nil {
		t.Fatal(err)
	}
	bar := chromedp.ID("progress-" + job.ID)
	if err := chromedp.Do(bctx, chromedp.Navigate(e.url+"/ui"), chromedp.WaitVisible(bar)); err != nil {
		t.Fatalf("the running export's progress bar did not show: %v\nserver log:\n%s", err, e.logs.String())
	}
	value, err := chromedp.Run(bctx, chromedp.AttributeValue(bar, "value"))
	if err != nil {
		t.Fatal(err)
	}
	maxValue, err := chromedp.Run(bctx, chromedp.AttributeValue(bar, "max"))
	if err != nil {
		t.Fatal(err)
	}
	row, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("export-"+job.ID)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.ArtifactDir(), "statuspage.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of /ui with a running export: %s", out)

	done, err1 := strconv.ParseInt(value.Value, 10, 64)
	total, err2 := strconv.ParseInt(maxValue.Value, 10, 64)
	if err1 != nil || err2 != nil || done <= 0 || done >= total {
		t.Fatalf("progress bar %q of %q; want a running export's bytes, above 0 and below the total", value.Value, maxValue.Value)
	}
	for _, want := range []string{"InProgress", "AWS status-exports", job.Prefix, e.snap.ID} {
		if !strings.Contains(row, want) {
			t.Errorf("the export's row does not show %q:\n%s", want, row)
		}
	}
	if strings.Contains(body, "Project Two") || !strings.Contains(body, "Project One") {
		t.Errorf("the page shows the wrong projects for a key that reads only Project One:\n%s", body)
	}
	if !strings.Contains(e.logs.String(), `"caller":"`) || !strings.Contains(e.logs.String(), ownerKey) {
		t.Errorf("the access log does not name the status page's caller:\n%s", e.logs.String())
	}
}

// answerDigest answers the server's authentication challenges with the
// key, and lets every other paused request through.
func answerDigest(t *testing.T, ctx context.Context, user, pass string) {
	t.Helper()
	events := make(chan any, 64)
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev.(type) {
		case *fetch.EventAuthRequired, *fetch.EventRequestPaused:
			select {
			case events <- ev:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-events:
				switch ev := ev.(type) {
				case *fetch.EventAuthRequired:
					_, _ = chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
						AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: user, Password: pass}})
				case *fetch.EventRequestPaused:
					_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				}
			}
		}
	}()
}

// TestStatusPageShowsWhatRolesAllow: a read-only key of the other
// project sees that project's cluster, its snapshots section, and not its
// export jobs, and nothing of the first project.
func TestStatusPageShowsWhatRolesAllow(t *testing.T) {
	e := newEnv(t, 10)
	c := &http.Client{Transport: &digest.Transport{Username: otherKey, Password: otherPriv}}
	resp, err := c.Get(e.url + "/ui")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, `<meta http-equiv="refresh" content="10">`) {
		t.Errorf("the page does not reload itself every 10s:\n%s", page)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Project Two") || !strings.Contains(page, "Cluster Other0") ||
		strings.Contains(page, "Project One") || !strings.Contains(page, "No snapshots.") || !strings.Contains(page, "do not allow listing export jobs") {
		t.Fatalf("/ui for a read-only key of Project Two: %d\n%s", resp.StatusCode, page)
	}
}

// TestStatusPageNeedsAuthentication: without credentials /ui answers 401
// with a digest challenge, so a browser asks for the key.
func TestStatusPageNeedsAuthentication(t *testing.T) {
	e := newEnv(t, 10)
	resp, err := http.Get(e.url + "/ui")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Digest ") {
		t.Fatalf("unauthenticated /ui: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
