package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/snapex/snapex/internal/atlas"
)

// logBuffer collects log output from concurrent requests.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines decodes the JSON log lines.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestLogNamesTheCaller: the access log line of the request that
// created an export job names the API key that made it, and its duration
// reads as a duration; an unauthenticated request names nobody.
func TestRequestLogNamesTheCaller(t *testing.T) {
	e := newEnv(t, "sqlite")
	bucketID := e.newAWSBucket("audit")
	snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	path := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
	r := e.do("POST", path, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
	e.expect(r, 200, "")
	e.doRaw("GET", path, nil) // no credentials: 401

	var created, anonymous map[string]any
	for _, l := range e.logs.lines(t) {
		if l["msg"] != "request" || l["path"] != path {
			continue
		}
		switch {
		case l["method"] == "POST" && l["status"] == 200.0:
			created = l
		case l["method"] == "GET" && l["status"] == 401.0:
			anonymous = l
		}
	}
	if created == nil || created["caller"] != "apiKey:"+ownerKey {
		t.Fatalf("the request that created export job %s does not name its key %s: %v", r.str("id"), ownerKey, created)
	}
	if d, _ := created["duration"].(string); !strings.HasSuffix(d, "s") {
		t.Fatalf("request duration %q is not a readable duration", created["duration"])
	}
	if anonymous == nil || anonymous["caller"] != nil {
		t.Fatalf("an unauthenticated request names a caller: %v", anonymous)
	}
}

// TestProgressExtensionOnExportsAndSnapshots: a running job shows the
// snapexProgress extension (validated against Atlas's schema like every
// response here), and a Cancelled job says who cancelled it.
func TestProgressExtensionOnExportsAndSnapshots(t *testing.T) {
	e := newEnv(t, "sqlite")
	bucketID := e.newAWSBucket("progress")
	snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	base := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
	r := e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
	e.expect(r, 200, "")
	id := r.str("id")
	if r.body["snapexProgress"] != nil {
		t.Fatalf("a queued job nobody started shows progress: %s", r.raw)
	}
	ctx := context.Background()
	if _, err := e.store.UpdateExportJob(ctx, id, func(j *atlas.ExportJob) error {
		j.State, j.TotalCollections = atlas.ExportInProgress, 1
		j.Progress = atlas.JobProgress{Documents: 40, DocumentsTotal: 100, Bytes: 4000, BytesTotal: 10000}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g := e.do("GET", base+"/"+id, "2023-01-01", nil)
	e.expect(g, 200, "")
	p, _ := g.body["snapexProgress"].(map[string]any)
	if p == nil || p["documentsExported"] != 40.0 || p["documentsTotal"] != 100.0 || p["bytesExported"] != 4000.0 || p["bytesTotal"] != 10000.0 {
		t.Fatalf("snapexProgress of a running job: %s", g.raw)
	}
	if st := g.body["exportStatus"].(map[string]any); st["exportedCollections"] != 0.0 || st["totalCollections"] != 1.0 {
		t.Fatalf("exportStatus keeps Atlas's meaning: %s", g.raw)
	}
	c := e.do("DELETE", base+"/"+id, "2023-01-01", nil)
	if c.status >= 300 {
		t.Fatalf("cancel: %d %s", c.status, c.raw)
	}
	job, err := e.store.ExportJobByID(ctx, id)
	if err != nil || job.CancelReason == nil || job.CancelReason.ErrorCode != string(atlas.CodeExportCancelledByUser) {
		t.Fatalf("a user's cancel is not recorded as its reason: %+v %v", job, err)
	}
}
