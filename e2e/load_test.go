package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
	"github.com/snapex/snapex/internal/testenv"
)

const loadRole = "c0000000000000000000000a"

// TestLoad200Clients holds 200 concurrent clients creating and polling
// export jobs against one snapex process for SNAPEX_LOAD_SECONDS (default
// 60) on SQLite and on PostgreSQL: no 5xx, and every job created reaches
// Successful. It logs requests/s and latency percentiles.
func TestLoad200Clients(t *testing.T) {
	secs := 60
	if v, err := strconv.Atoi(os.Getenv("SNAPEX_LOAD_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { runLoad(t, engine, 200, time.Duration(secs)*time.Second) })
	}
}

func runLoad(t *testing.T, engine string, clients int, dur time.Duration) {
	dir := t.TempDir()
	database := dir + "/snapex.db"
	cfgDB := "snapex.db"
	if engine == "postgres" {
		database = testenv.Postgres(t)
		cfgDB = database
	}
	writeSecrets(t, dir, map[string]string{"key": privKey, "sa": saSecret})
	cfg := `
database: ` + cfgDB + `
rateLimit: {disabled: true}
exports: {concurrency: 4}
organizations:
  - id: ` + orgID + `
    name: Load Org
    projects:
      - id: ` + groupID + `
        name: Load Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: ` + loadRole + `, provider: AWS, local: {directory: buckets}}
apiKeys:
  - publicKey: ` + pubKey + `
    privateKey: file:secrets/key
    roles: [{role: ORG_OWNER, orgId: ` + orgID + `}]
serviceAccounts:
  - clientId: ` + saID + `
    clientSecret: file:secrets/sa
    roles: [{role: GROUP_OWNER, groupId: ` + groupID + `}]
`
	st, err := store.Open(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snaps, err := (&stores.Opener{}).OpenSnapshotStorage(context.Background(), config.SnapshotStorage{Directory: dir + "/snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	snapIDs := make([]string, clients)
	for i := range snapIDs {
		created := time.Now().UTC().Add(-time.Duration(i) * time.Minute)
		sn := &atlas.Snapshot{ID: atlas.NewObjectID(created), GroupID: groupID, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot,
			Status: atlas.SnapshotCompleted, SnapshotType: "onDemand", FrequencyType: "ondemand", ReplicaSetName: "rs0", CreatedAt: created}
		exporttest.WriteSnapshot(t, snaps, sn.ID, "Cluster0", created, []string{"rs0"}, map[string]int{"app.things": 3})
		if err := st.CreateSnapshot(context.Background(), sn); err != nil {
			t.Fatal(err)
		}
		snapIDs[i] = sn.ID
	}
	srv := startServer(t, dir, cfg)
	token := fetchToken(t, srv.url)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	base := srv.url + "/api/atlas/v2/groups/" + groupID
	call := func(method, url, version string, body any) (int, map[string]any, time.Duration) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, url, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/vnd.atlas."+version+"+json")
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return -1, nil, time.Since(start)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, time.Since(start)
	}
	status, bucket, _ := call("POST", base+"/backup/exportBuckets", "2024-05-30",
		map[string]any{"cloudProvider": "AWS", "bucketName": "load", "iamRoleId": loadRole})
	if status != 200 {
		t.Fatalf("create bucket: %d %v", status, bucket)
	}
	var (
		requests, fivexx, transportErr atomic.Int64
		mu                             sync.Mutex
		latencies                      []time.Duration
		created                        []string
	)
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(snapID string) {
			defer wg.Done()
			var local []time.Duration
			record := func(code int, d time.Duration) {
				requests.Add(1)
				local = append(local, d)
				switch {
				case code < 0:
					transportErr.Add(1)
				case code >= 500:
					fivexx.Add(1)
				}
			}
			for time.Now().Before(deadline) {
				code, job, d := call("POST", base+"/clusters/Cluster0/backup/exports", "2023-01-01",
					map[string]any{"snapshotId": snapID, "exportBucketId": bucket["_id"]})
				record(code, d)
				if code != 200 {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				id := job["id"].(string)
				mu.Lock()
				created = append(created, id)
				mu.Unlock()
				for time.Now().Before(deadline.Add(30 * time.Second)) {
					code, got, d := call("GET", base+"/clusters/Cluster0/backup/exports/"+id, "2023-01-01", nil)
					record(code, d)
					if code == 200 && atlas.ExportState(fmt.Sprint(got["state"])).Terminal() {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				code, _, d = call("GET", base+"/clusters/Cluster0/backup/exports?itemsPerPage=5", "2023-01-01", nil)
				record(code, d)
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}(snapIDs[i])
	}
	wg.Wait()
	elapsed := time.Since(deadline.Add(-dur))
	if fivexx.Load() > 0 || transportErr.Load() > 0 {
		t.Fatalf("%d responses were 5xx and %d requests failed in transport", fivexx.Load(), transportErr.Load())
	}
	if len(created) < clients {
		t.Fatalf("only %d jobs created by %d clients", len(created), clients)
	}
	for _, id := range created {
		j, err := st.ExportJobByID(context.Background(), id)
		if err != nil {
			t.Fatalf("job %s lost: %v", id, err)
		}
		for !j.State.Terminal() {
			time.Sleep(100 * time.Millisecond)
			if j, err = st.ExportJobByID(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}
		if j.State != atlas.ExportSuccessful {
			t.Fatalf("job %s ended %s: %+v", id, j.State, j.StateReason)
		}
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(float64(len(latencies)-1)*p)] }
	t.Logf("%s: %d clients, %d requests in %s = %.0f req/s; %d jobs all Successful; latency p50 %s p99 %s max %s",
		engine, clients, requests.Load(), elapsed.Round(time.Second), float64(requests.Load())/elapsed.Seconds(), len(created),
		pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), latencies[len(latencies)-1].Round(time.Millisecond))
}
