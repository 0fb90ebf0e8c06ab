package e2e

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// TestThreeReplicasScheduleExactlyOnce runs three snapex processes on one
// PostgreSQL: each scheduled slot yields exactly one snapshot and one
// automatic export, also after one process is killed between two slots.
func TestThreeReplicasScheduleExactlyOnce(t *testing.T) {
	uri := testenv.FerretDB(t)
	seedFerret(t, uri)
	dsn := testenv.Postgres(t)
	e := newCrashEnv(t, dsn)
	cfg := scheduleConfig(dsn, uri, e.s3.Endpoint)
	var servers []*server
	for i := 0; i < 3; i++ {
		servers = append(servers, startServer(t, e.dir, cfg))
	}
	ctx := context.Background()
	c := digestClient(t, servers[1].url, pubKey, privKey)
	api := c.CloudBackupsApi
	b := val(api.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)

	schedule := func(client *admin.APIClient) time.Time {
		slot, items, freq := nextSlot(time.Now().UTC())
		if freq != "monthly" {
			t.Logf("export frequency %s today (response validation flags it)", freq)
		}
		val(client.CloudBackupsApi.UpdateBackupSchedule(ctx, groupID, "Cluster0", &admin.DiskBackupSnapshotSchedule20240805{
			ReferenceHourOfDay: admin.PtrInt(slot.Hour()), ReferenceMinuteOfHour: admin.PtrInt(slot.Minute()),
			AutoExportEnabled: admin.PtrBool(true),
			Export:            &admin.AutoExportPolicy{ExportBucketId: admin.PtrString(b.GetId()), FrequencyType: admin.PtrString(freq)},
			Policies:          []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{PolicyItems: items}},
		}).Execute()).get(t)
		return slot
	}
	perSlot := func(slot time.Time) (snaps, jobs int) {
		t.Helper()
		q := `SELECT COUNT(*) FROM snapshots WHERE scheduled_for = $1`
		if err := e.store.DB().QueryRowContext(ctx, q, slot.UnixMilli()).Scan(&snaps); err != nil {
			t.Fatal(err)
		}
		q = `SELECT COUNT(*) FROM export_jobs j JOIN snapshots s ON s.id = j.snapshot_id WHERE s.scheduled_for = $1`
		if err := e.store.DB().QueryRowContext(ctx, q, slot.UnixMilli()).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		return snaps, jobs
	}

	slot1 := schedule(c)
	snaps := waitScheduled(t, api, 1, time.Until(slot1)+90*time.Second)
	jobs := waitExportJobs(t, api, 1, 30*time.Second)
	waitState(t, c, jobs[0].GetId(), 60*time.Second)
	time.Sleep(3 * time.Second) // every process has had passes after the slot
	if s, j := perSlot(slot1); s != 1 || j != 1 || len(snaps) != 1 {
		t.Fatalf("slot %v: %d snapshots, %d export jobs; want 1 and 1", slot1, s, j)
	}

	// Kill the River leader, the process that enqueues the passes (its
	// River id is its lease owner name, "host/pid/random"); a survivor
	// takes over leadership.
	var leader string
	if err := e.store.DB().QueryRowContext(ctx, `SELECT leader_id FROM river_leader`).Scan(&leader); err != nil {
		t.Fatal(err)
	}
	var victim *server
	for _, s := range servers {
		if fmt.Sprint(s.cmd.Process.Pid) == pidOf(leader) {
			victim = s
		}
	}
	if victim == nil {
		t.Fatalf("leader %q is none of the three processes", leader)
	}
	_ = victim.cmd.Process.Signal(syscall.SIGKILL)
	_ = victim.cmd.Wait()
	var alive *server
	for _, s := range servers {
		if s != victim {
			alive = s
		}
	}
	c2 := digestClient(t, alive.url, pubKey, privKey)
	slot2 := schedule(c2)
	waitScheduled(t, c2.CloudBackupsApi, 2, time.Until(slot2)+90*time.Second)
	jobs = waitExportJobs(t, c2.CloudBackupsApi, 2, 30*time.Second)
	for _, j := range jobs {
		waitState(t, c2, j.GetId(), 60*time.Second)
	}
	time.Sleep(3 * time.Second)
	if s, j := perSlot(slot2); s != 1 || j != 1 {
		t.Fatalf("slot %v after a kill: %d snapshots, %d export jobs; want 1 and 1", slot2, s, j)
	}
	if s, _ := perSlot(slot1); s != 1 {
		t.Fatalf("slot %v now has %d snapshots", slot1, s)
	}
}
