package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/mongodb-forks/digest"
	"github.com/snapex/snapex/internal/apitest"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// TestScheduledSnapshotAutoExportedAsParquet sets Parquet snapexOptions on
// the schedule's export policy through the real binary (FerretDB,
// versitygw) and checks that the scheduled snapshot's automatic export
// carries them and lands as .parquet files holding every document.
func TestScheduledSnapshotAutoExportedAsParquet(t *testing.T) {
	uri := testenv.FerretDB(t)
	want := seedFerret(t, uri)
	e := newCrashEnv(t, "")
	e.store.Close()
	srv := startServer(t, e.dir, scheduleConfig("snapex.db", uri, e.s3.Endpoint))
	c := digestClient(t, srv.url, pubKey, privKey)
	api := c.CloudBackupsApi
	ctx := context.Background()

	def := val(api.GetBackupSchedule(ctx, groupID, "Cluster0").Execute()).get(t)
	b := val(api.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	slot, items, exportFreq := nextSlot(time.Now().UTC())
	body, err := json.Marshal(map[string]any{
		"referenceHourOfDay": slot.Hour(), "referenceMinuteOfHour": slot.Minute(), "autoExportEnabled": true,
		"export": map[string]any{"exportBucketId": b.GetId(), "frequencyType": exportFreq,
			"snapexOptions": map[string]any{"format": "parquet", "parquet": map[string]any{"compression": "snappy"}}},
		"policies": []any{map[string]any{"id": def.GetPolicies()[0].GetId(), "policyItems": items}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Responses are checked against the OpenAPI subset, except with the
	// weekly export frequency the spec's enum does not list.
	validate := exportFreq == "monthly"
	sch := rawRequest(t, srv.url, "PATCH", "/clusters/Cluster0/backup/schedule", "2024-08-05", string(body), validate)
	if !strings.Contains(sch, `"snapexOptions":{"format":"parquet"`) || !strings.Contains(sch, `"compression":"snappy"`) {
		t.Fatalf("PATCH answer does not show the options: %s", sch)
	}

	snaps := waitScheduled(t, api, 1, time.Until(slot)+90*time.Second)
	jobs := waitExportJobs(t, api, 1, 30*time.Second)
	if len(jobs) != 1 || jobs[0].GetSnapshotId() != snaps[0].GetId() {
		t.Fatalf("auto export jobs: %+v", jobs)
	}
	done := waitState(t, c, jobs[0].GetId(), 90*time.Second)
	var job struct {
		SnapexOptions struct {
			Format  string `json:"format"`
			Parquet struct {
				Compression string `json:"compression"`
			} `json:"parquet"`
		} `json:"snapexOptions"`
	}
	raw := rawRequest(t, srv.url, "GET", "/clusters/Cluster0/backup/exports/"+done.GetId(), "2023-01-01", "", true)
	if err := json.Unmarshal([]byte(raw), &job); err != nil || job.SnapexOptions.Format != "parquet" || job.SnapexOptions.Parquet.Compression != "snappy" {
		t.Fatalf("automatic export job's snapexOptions: %s (%v)", raw, err)
	}

	bucket := e.bucket(t)
	var parquetFiles, rows int
	var keys []string
	for obj, err := range bucket.List(ctx, done.GetPrefix()+"/") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
		if strings.HasSuffix(obj.Key, ".json.gz") {
			t.Errorf("a Parquet export wrote %s", obj.Key)
		}
		if !strings.HasSuffix(obj.Key, ".parquet") {
			continue
		}
		parquetFiles++
		data, err := bucket.ReadAll(ctx, obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		r, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s is not Parquet: %v", obj.Key, err)
		}
		if strings.Contains(obj.Key, "/shop/items/") {
			rows += int(r.NumRows())
		}
		r.Close()
	}
	if parquetFiles == 0 || rows != len(want["rs0/shop.items"]) {
		t.Fatalf("%d Parquet files with %d shop.items rows, want %d rows; objects %v", parquetFiles, rows, len(want["rs0/shop.items"]), keys)
	}
	for _, k := range []string{"manifest.json", ".complete"} {
		if ok, err := bucket.Exists(ctx, done.GetPrefix()+"/"+k); err != nil || !ok {
			t.Fatalf("%s missing (%v); objects %v", k, err, keys)
		}
	}
}

// rawRequest sends one request with digest auth (through the validating
// transport when validate) and returns the 200 answer's body; the SDK's
// models cannot carry snapexOptions.
func rawRequest(t *testing.T, base, method, path, version, body string, validate bool) string {
	t.Helper()
	var rt http.RoundTripper = http.DefaultTransport
	if validate {
		rt = apitest.NewTransport(t, nil)
	}
	hc, err := digest.NewTransportWithHTTPRoundTripper(pubKey, privKey, rt).Client()
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+"/api/atlas/v2/groups/"+groupID+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.atlas."+version+"+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.atlas."+version+"+json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s %s: %d %s", method, path, version, resp.StatusCode, raw)
	}
	return string(raw)
}
