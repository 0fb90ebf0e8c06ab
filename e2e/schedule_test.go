package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"
	"github.com/snapex/snapex/internal/apitest"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// scheduleConfig is snapshotConfig with scheduling passes every second
// (an ordinary setting) so a slot a minute or two away is taken promptly.
func scheduleConfig(database, ferretURI, s3Endpoint string) string {
	cfg := snapshotConfig(ferretURI, s3Endpoint)
	cfg = strings.Replace(cfg, "connectTimeoutSeconds: 2}", "connectTimeoutSeconds: 2, scheduleCheckSeconds: 1}", 1)
	return strings.Replace(cfg, "database: snapex.db", "database: "+database, 1)
}

// nextSlot is the first whole minute at least 40 s away, and the policy
// items that fire then: hourly every hour, and a monthly item on that day
// (the last-day interval 40 on a month's last day). The export follows
// the monthly item. Monthly is the export frequency the spec's enum lists,
// so every response validates; on the 29th or 30th of a longer month no
// monthly interval names the day, and weekly is used instead.
func nextSlot(now time.Time) (time.Time, []admin.DiskBackupApiPolicyItem, string) {
	slot := now.Add(100 * time.Second).Truncate(time.Minute)
	items := []admin.DiskBackupApiPolicyItem{{FrequencyType: "hourly", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 1}}
	last := atlas.DaysInMonth(slot.Year(), slot.Month())
	switch {
	case slot.Day() <= 28:
		items = append(items, admin.DiskBackupApiPolicyItem{FrequencyType: "monthly", FrequencyInterval: slot.Day(), RetentionUnit: "months", RetentionValue: 1})
		return slot, items, "monthly"
	case slot.Day() == last:
		items = append(items, admin.DiskBackupApiPolicyItem{FrequencyType: "monthly", FrequencyInterval: 40, RetentionUnit: "months", RetentionValue: 1})
		return slot, items, "monthly"
	}
	wd := int(slot.Weekday())
	if wd == 0 {
		wd = 7
	}
	items = append(items, admin.DiskBackupApiPolicyItem{FrequencyType: "weekly", FrequencyInterval: wd, RetentionUnit: "weeks", RetentionValue: 1})
	return slot, items, "weekly"
}

func seedFerret(t *testing.T, uri string) exporttest.Docs {
	t.Helper()
	ctx := context.Background()
	mc, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(ctx)
	want := exporttest.Docs{}
	var batch []any
	for i := 0; i < 300; i++ {
		batch = append(batch, bson.D{{Key: "_id", Value: int32(i)}, {Key: "name", Value: fmt.Sprintf("item %d", i)}})
	}
	if _, err := mc.Database("shop").Collection("items").InsertMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	cur, err := mc.Database("shop").Collection("items").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
		want["rs0/shop.items"] = append(want["rs0/shop.items"], append([]byte(nil), cur.Current...))
	}
	cur.Close(ctx)
	return want
}

// waitScheduled waits for the cluster's scheduled snapshots to number n,
// all finished, and returns them.
func waitScheduled(t *testing.T, api admin.CloudBackupsApi, n int, limit time.Duration) []admin.DiskBackupReplicaSet {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		list := val(api.ListBackupSnapshots(context.Background(), groupID, "Cluster0").Execute()).get(t)
		var out []admin.DiskBackupReplicaSet
		finished := true
		for _, s := range list.GetResults() {
			if s.GetSnapshotType() == "scheduled" {
				out = append(out, s)
				finished = finished && (s.GetStatus() == "completed" || s.GetStatus() == "failed")
			}
		}
		if len(out) >= n && finished {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d scheduled snapshots (finished %v) after %s, want %d", len(out), finished, limit, n)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitExportJobs waits until the cluster has n export jobs and returns them.
func waitExportJobs(t *testing.T, api admin.CloudBackupsApi, n int, limit time.Duration) []admin.DiskBackupExportJob {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		jobs := val(api.ListBackupExports(context.Background(), groupID, "Cluster0").Execute()).get(t).GetResults()
		if len(jobs) >= n || time.Now().After(deadline) {
			return jobs
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestScheduledSnapshotAutoExported drives the backup schedule through the
// SDK against the real binary on FerretDB and versitygw: the default
// schedule, an update in both versions, a scheduled snapshot taken and
// automatically exported (read back), the bucket-in-use error, deleting
// the schedule.
func TestScheduledSnapshotAutoExported(t *testing.T) {
	uri := testenv.FerretDB(t)
	want := seedFerret(t, uri)
	e := newCrashEnv(t, "")
	e.store.Close()
	srv := startServer(t, e.dir, scheduleConfig("snapex.db", uri, e.s3.Endpoint))
	c := digestClient(t, srv.url, pubKey, privKey)
	api := c.CloudBackupsApi
	ctx := context.Background()

	def := val(api.GetBackupSchedule(ctx, groupID, "Cluster0").Execute()).get(t)
	var kinds []string
	for _, it := range def.GetPolicies()[0].GetPolicyItems() {
		kinds = append(kinds, fmt.Sprintf("%s/%d/%d%s", it.FrequencyType, it.FrequencyInterval, it.RetentionValue, it.RetentionUnit))
	}
	if strings.Join(kinds, " ") != "hourly/6/7days daily/1/7days weekly/6/4weeks monthly/40/12months" || def.GetNextSnapshot().IsZero() {
		t.Fatalf("default schedule: %v next %v", kinds, def.GetNextSnapshot())
	}

	b := val(api.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	slot, items, exportFreq := nextSlot(time.Now().UTC())
	client := c
	if exportFreq != "monthly" {
		// The spec's enum lists only monthly and yearly; snapex accepts
		// weekly too (documented), which the validating transport flags.
		hc, _ := digest.NewTransport(pubKey, privKey).Client()
		client, _ = admin.NewClient(admin.UseBaseURL(srv.url), admin.UseHTTPClient(hc))
	}
	upd := val(client.CloudBackupsApi.UpdateBackupSchedule(ctx, groupID, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
		ReferenceHourOfDay: admin.PtrInt(slot.Hour()), ReferenceMinuteOfHour: admin.PtrInt(slot.Minute()),
		AutoExportEnabled: admin.PtrBool(true), UseOrgAndGroupNamesInExportPrefix: admin.PtrBool(true),
		Export:   &admin.AutoExportPolicy{ExportBucketId: admin.PtrString(b.GetId()), FrequencyType: admin.PtrString(exportFreq)},
		Policies: []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{Id: def.GetPolicies()[0].Id, PolicyItems: items}},
	}).Execute()).get(t)
	if !upd.GetNextSnapshot().Equal(slot) || len(upd.GetPolicies()[0].GetPolicyItems()) != 2 {
		t.Fatalf("updated schedule: next %v (want %v), %d items", upd.GetNextSnapshot(), slot, len(upd.GetPolicies()[0].GetPolicyItems()))
	}
	var itemIDs []string
	for _, it := range upd.GetPolicies()[0].GetPolicyItems() {
		itemIDs = append(itemIDs, it.GetId())
	}

	// The 2023-01-01 version through plain HTTP, validated too.
	old := scheduleRequest(t, srv.url, "PATCH", "2023-01-01", `{"restoreWindowDays": 3}`)
	if !strings.Contains(old, `"restoreWindowDays":3`) || strings.Contains(old, "autoCopySettingsEnabled") {
		t.Fatalf("2023-01-01 PATCH: %s", old)
	}

	// The slot comes: one scheduled snapshot serving both items, exported
	// automatically into the bucket as soon as it completed.
	snaps := waitScheduled(t, api, 1, time.Until(slot)+90*time.Second)
	sn := snaps[0]
	if len(snaps) != 1 || sn.GetStatus() != "completed" || sn.GetFrequencyType() != exportFreq || !slices.Equal(sn.GetPolicyItems(), itemIDs) {
		t.Fatalf("scheduled snapshots: %+v (items want %v)", snaps, itemIDs)
	}
	if sn.GetCreatedAt().Before(slot) || sn.GetExpiresAt().Sub(sn.GetCreatedAt()) < 28*24*time.Hour {
		t.Fatalf("scheduled snapshot times: created %v expires %v", sn.GetCreatedAt(), sn.GetExpiresAt())
	}
	jobs := waitExportJobs(t, api, 1, 30*time.Second)
	if len(jobs) != 1 || jobs[0].GetSnapshotId() != sn.GetId() || jobs[0].GetExportBucketId() != b.GetId() {
		t.Fatalf("auto export jobs: %+v", jobs)
	}
	done := waitState(t, c, jobs[0].GetId(), 60*time.Second)
	if !strings.HasPrefix(done.GetPrefix(), "exported_snapshots/Snap_Org/Snap_Project/Cluster0/") {
		t.Fatalf("prefix %s does not use the org and project names", done.GetPrefix())
	}
	got := exporttest.ReadExport(t, e.bucket(t), done.GetPrefix()).Docs
	sortDocs(want)
	sortDocs(got)
	exporttest.SameDocs(t, want, got)

	// The bucket is in use until auto export is off.
	_, err := api.DeleteExportBucket(ctx, groupID, b.GetId()).Execute()
	if !admin.IsErrorCode(err, "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE") || !strings.Contains(describe(err), "Cluster0") {
		t.Fatalf("delete bucket in use: %v", describe(err))
	}
	del := val(client.CloudBackupsApi.DeleteClusterBackupSchedule(ctx, groupID, "Cluster0").Execute()).get(t)
	if len(del.GetPolicies()[0].GetPolicyItems()) != 0 || del.NextSnapshot != nil {
		t.Fatalf("deleted schedule: %+v", del)
	}
	val(client.CloudBackupsApi.UpdateBackupSchedule(ctx, groupID, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
		AutoExportEnabled: admin.PtrBool(false)}).Execute()).get(t)
	if _, err := api.DeleteExportBucket(ctx, groupID, b.GetId()).Execute(); err != nil {
		t.Fatalf("delete bucket after disabling auto export: %v", describe(err))
	}
	if !strings.Contains(srv.logs.String(), `"msg":"scheduled snapshot queued"`) || !strings.Contains(srv.logs.String(), `"msg":"automatic export created"`) {
		t.Fatal("scheduling decisions were not logged")
	}
}

// scheduleRequest sends one backup schedule request with digest auth
// through the validating transport and returns the body.
func scheduleRequest(t *testing.T, base, method, version, body string) string {
	t.Helper()
	hc, err := digest.NewTransportWithHTTPRoundTripper(pubKey, privKey, apitest.NewTransport(t, nil)).Client()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, base+"/api/atlas/v2/groups/"+groupID+"/clusters/Cluster0/backup/schedule", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.atlas."+version+"+json")
	req.Header.Set("Content-Type", "application/vnd.atlas."+version+"+json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, version, resp.StatusCode, raw)
	}
	return string(raw)
}
