package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/storerepo"
	"github.com/snapex/snapex/internal/store"
)

const (
	schedOrgID    = "a0000000000000000000000a"
	schedGroupID  = "100000000000000000000001"
	schedRoleID   = "c00000000000000000000001"
	schedBucketID = "d00000000000000000000001"
)

const scheduleConfig = `
database: %s
organizations:
  - id: ` + schedOrgID + `
    name: Acme Corp
    projects:
      - id: ` + schedGroupID + `
        name: Web/Shop
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: ` + schedRoleID + `, provider: AWS, local: {directory: buckets/aws}}
`

// clock is the injected time the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// counts is a ScheduleObserver that counts per cluster.
type counts struct{ taken, missed, expired, exported int }

func (c *counts) SnapshotTaken(string, string)       { c.taken++ }
func (c *counts) SnapshotsMissed(_, _ string, n int) { c.missed += n }
func (c *counts) SnapshotExpired(string, string)     { c.expired++ }
func (c *counts) AutoExportCreated(string, string)   { c.exported++ }

func newService(t *testing.T, clk *clock) (*service.Service, atlas.Cluster, *counts) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(fmt.Sprintf(scheduleConfig, filepath.Join(dir, "db.sqlite"))))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), cfg.Database.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	obs := &counts{}
	svc := &service.Service{Repo: &storerepo.Repo{Store: st}, Catalog: cfg.Catalog(), Now: clk.now, Observer: obs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := st.CreateBucket(context.Background(), &atlas.ExportBucket{ID: schedBucketID, GroupID: schedGroupID, BucketName: "exports",
		CloudProvider: atlas.AWS, RoleID: schedRoleID, Region: "us-east-1", CreatedAt: clk.t}); err != nil {
		t.Fatal(err)
	}
	cl, err := svc.Cluster(schedGroupID, "Cluster0")
	if err != nil {
		t.Fatal(err)
	}
	return svc, cl, obs
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

type want struct {
	slot     time.Time
	label    string
	items    []string
	exported bool
}

// TestScheduleThroughAMonth moves an injected clock through May 2026 in
// half-hour passes (with a two-day outage) and checks every snapshot the
// schedule takes, its labels, policy items, expiry and auto exports.
func TestScheduleThroughAMonth(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: day("2026-04-30T23:00").Add(30 * time.Second)}
	svc, cl, obs := newService(t, clk)

	def, err := svc.Schedule(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(def.Items) != 4 {
		t.Fatalf("default schedule has %d items", len(def.Items))
	}
	tr := true
	zero := 0
	ptr := func(s atlas.Frequency, n int, u atlas.RetentionUnit, v int) atlas.PolicyItem {
		return atlas.PolicyItem{FrequencyType: s, FrequencyInterval: n, RetentionUnit: u, RetentionValue: v}
	}
	sch, err := svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{
		Policies: &[]atlas.PolicyPatch{{Items: []atlas.PolicyItem{
			ptr(atlas.Hourly, 12, atlas.RetainDays, 2),
			ptr(atlas.Daily, 1, atlas.RetainDays, 7),
			ptr(atlas.Weekly, 7, atlas.RetainWeeks, 2),
			ptr(atlas.Monthly, 40, atlas.RetainMonths, 2),
		}}},
		ReferenceHourOfDay: &zero, ReferenceMinuteOfHour: &zero,
		AutoExportEnabled: &tr, Export: &atlas.AutoExport{ExportBucketID: schedBucketID, FrequencyType: atlas.Weekly},
		UseOrgAndGroupNamesInExportPrefix: &tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	h, d, w, m := sch.Items[0].ID, sch.Items[1].ID, sch.Items[2].ID, sch.Items[3].ID
	if n := svc.NextSnapshot(sch); !n.Equal(day("2026-05-01T00:00")) {
		t.Fatalf("nextSnapshot %v", n)
	}

	// The oracle, written from the May 2026 calendar: 00:00 serves the
	// hourly and daily items (and Sunday's weekly, and the 31st's monthly),
	// 12:00 the hourly; nothing while every process is down from 20 May
	// 06:00 to 22 May 13:00, then one catch-up snapshot for 22 May 12:00
	// serving the owed hourly and daily items.
	var wants []want
	downFrom, downTo := day("2026-05-20T06:00"), day("2026-05-22T13:00")
	end := day("2026-06-01T06:00")
	for dd := 1; dd <= 32; dd++ { // 32 May is 1 June, taken before the end

		mid := time.Date(2026, 5, dd, 0, 0, 0, 0, time.UTC)
		for _, slot := range []time.Time{mid, mid.Add(12 * time.Hour)} {
			if !slot.Before(end) || slot.After(downFrom) && slot.Before(downTo) && !slot.Equal(day("2026-05-22T12:00")) {
				continue
			}
			wt := want{slot: slot, label: "hourly", items: []string{h}}
			if slot.Hour() == 0 {
				wt.label, wt.items = "daily", []string{h, d}
				if slot.Weekday() == time.Sunday {
					wt.label, wt.items = "weekly", append(wt.items, w)
				}
				if dd == 31 {
					wt.label, wt.items = "monthly", append(wt.items, m)
				}
			}
			if slot.Equal(day("2026-05-22T12:00")) {
				wt.label, wt.items = "daily", []string{h, d}
			}
			wt.exported = wt.label == "weekly"
			wants = append(wants, wt)
		}
	}

	// An on-demand snapshot left unfinished does not stop scheduled ones.
	clk.t = day("2026-05-02T09:00")
	if _, err := svc.TakeSnapshot(ctx, cl, "manual", 30); err != nil {
		t.Fatal(err)
	}

	type got struct {
		id      string
		slot    time.Time
		label   string
		items   []string
		expires time.Time
	}
	var taken []got
	for clk.t = day("2026-04-30T23:30").Add(30 * time.Second); clk.t.Before(end); clk.t = clk.t.Add(30 * time.Minute) {
		if clk.t.After(downFrom) && clk.t.Before(downTo) {
			continue
		}
		if err := svc.RunSchedules(ctx); err != nil {
			t.Fatalf("pass at %v: %v", clk.t, err)
		}
		list, _, err := svc.ListSnapshots(ctx, schedGroupID, "Cluster0", atlas.ReplicaSetSnapshot, atlas.Page{Number: 1, ItemsPerPage: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range list {
			if sn.SnapshotType != "scheduled" || sn.Status != atlas.SnapshotQueued {
				continue
			}
			meta, err := svc.Repo.ScheduledSnapshotOf(ctx, sn.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The taker completes it a minute after its slot.
			if _, err := svc.Repo.UpdateSnapshot(ctx, sn.ID, func(x *atlas.Snapshot) error {
				x.Status, x.CreatedAt = atlas.SnapshotCompleted, meta.ScheduledFor.Add(time.Minute)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := svc.SnapshotCompleted(ctx, sn.ID); err != nil {
				t.Fatal(err)
			}
			done, err := svc.GetSnapshot(ctx, schedGroupID, "Cluster0", atlas.ReplicaSetSnapshot, sn.ID)
			if err != nil {
				t.Fatal(err)
			}
			taken = append(taken, got{sn.ID, meta.ScheduledFor, done.FrequencyType, done.PolicyItems, done.ExpiresAt})
		}
		if _, err := svc.ExpireSnapshots(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if len(taken) != len(wants) {
		t.Fatalf("%d scheduled snapshots taken, want %d", len(taken), len(wants))
	}
	itemDur := map[string]func(time.Time) time.Time{
		h: func(t time.Time) time.Time { return t.AddDate(0, 0, 2) },
		d: func(t time.Time) time.Time { return t.AddDate(0, 0, 7) },
		w: func(t time.Time) time.Time { return t.AddDate(0, 0, 14) },
		m: func(t time.Time) time.Time { return t.AddDate(0, 2, 0) },
	}
	exportedSnaps := map[string]bool{}
	for i, g := range taken {
		wt := wants[i]
		var wantExp time.Time
		for _, id := range wt.items {
			if e := itemDur[id](wt.slot.Add(time.Minute)); e.After(wantExp) {
				wantExp = e
			}
		}
		if !g.slot.Equal(wt.slot) || g.label != wt.label || !slices.Equal(g.items, wt.items) || !g.expires.Equal(wantExp) {
			t.Errorf("snapshot %d: slot %v label %s items %v expires %v; want %v %s %v %v", i, g.slot, g.label, g.items, g.expires,
				wt.slot, wt.label, wt.items, wantExp)
		}
		if wt.exported {
			exportedSnaps[g.id] = true
		}
	}

	// Auto exports: the weekly snapshots of 3, 10, 17 and 24 May; 31 May is
	// weekly and monthly, so it counts as monthly and a weekly export
	// policy leaves it alone.
	jobs, _, err := svc.ListExportJobs(ctx, schedGroupID, "Cluster0", atlas.Page{Number: 1, ItemsPerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 4 || len(exportedSnaps) != 4 {
		t.Fatalf("%d auto export jobs, want 4 (%d weekly snapshots)", len(jobs), len(exportedSnaps))
	}
	for _, j := range jobs {
		if !exportedSnaps[j.SnapshotID] || j.ExportBucketID != schedBucketID {
			t.Errorf("unexpected export job %+v", j)
		}
		// Nothing works the jobs here; those of snapshots that expired
		// meanwhile were cancelled with them.
		_, gerr := svc.Repo.GetSnapshot(ctx, schedGroupID, "Cluster0", j.SnapshotID)
		if kept := gerr == nil; (j.State == atlas.ExportQueued) != kept || (!kept && j.State != atlas.ExportCancelled) {
			t.Errorf("export job of snapshot %s (kept %v) is %s", j.SnapshotID, kept, j.State)
		}
		if !strings.HasPrefix(j.Prefix, "exported_snapshots/Acme_Corp/WebShop/Cluster0/2026-05-") {
			t.Errorf("prefix %s does not use the org and project names", j.Prefix)
		}
	}

	// Expiry: at the end only snapshots whose expiry is later remain.
	list, _, err := svc.ListSnapshots(ctx, schedGroupID, "Cluster0", atlas.ReplicaSetSnapshot, atlas.Page{Number: 1, ItemsPerPage: 500})
	if err != nil {
		t.Fatal(err)
	}
	var remaining []string
	for _, sn := range list {
		if sn.SnapshotType == "scheduled" {
			remaining = append(remaining, sn.ID)
		}
	}
	var wantRemaining []string
	now := clk.t
	expiredWant := 0
	for _, g := range taken {
		if g.expires.After(now.Add(-30 * time.Minute)) {
			wantRemaining = append(wantRemaining, g.id)
		} else {
			expiredWant++
		}
	}
	slices.Sort(remaining)
	slices.Sort(wantRemaining)
	if !slices.Equal(remaining, wantRemaining) {
		t.Errorf("remaining scheduled snapshots %d, want %d", len(remaining), len(wantRemaining))
	}
	if obs.taken != len(wants) || obs.expired != expiredWant || obs.exported != 4 || obs.missed != 4 {
		t.Errorf("observed %+v; want taken %d expired %d exported 4 missed 4", *obs, len(wants), expiredWant)
	}

	// The on-demand snapshot is still there, unfinished.
	onDemand := 0
	for _, sn := range list {
		if sn.SnapshotType == "onDemand" && sn.Status == atlas.SnapshotQueued {
			onDemand++
		}
	}
	if onDemand != 1 {
		t.Errorf("%d unfinished on-demand snapshots, want 1", onDemand)
	}

	// updateSnapshots re-applies a longer daily retention to the daily
	// snapshots still kept.
	items := slices.Clone(sch.Items)
	items[1].RetentionValue = 10
	if _, err := svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{Policies: &[]atlas.PolicyPatch{{ID: sch.PolicyID, Items: items}}, UpdateSnapshots: true}); err != nil {
		t.Fatal(err)
	}
	for _, g := range taken {
		if g.label != "daily" || !slices.Contains(wantRemaining, g.id) {
			continue
		}
		sn, err := svc.GetSnapshot(ctx, schedGroupID, "Cluster0", atlas.ReplicaSetSnapshot, g.id)
		if err != nil {
			t.Fatal(err)
		}
		if want := g.slot.Add(time.Minute).AddDate(0, 0, 10); !sn.ExpiresAt.Equal(want) {
			t.Errorf("daily snapshot of %v expires %v after updateSnapshots, want %v", g.slot, sn.ExpiresAt, want)
		}
	}

	// A bucket a schedule exports into cannot be deleted until auto
	// export is off.
	const other = "d00000000000000000000002"
	if err := svc.Repo.CreateBucket(ctx, &atlas.ExportBucket{ID: other, GroupID: schedGroupID, BucketName: "other",
		CloudProvider: atlas.AWS, RoleID: schedRoleID, Region: "us-east-1", CreatedAt: clk.t}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{Export: &atlas.AutoExport{ExportBucketID: other, FrequencyType: atlas.Monthly}}); err != nil {
		t.Fatal(err)
	}
	err = svc.DeleteBucket(ctx, schedGroupID, other)
	var ae *atlas.Error
	if !asAtlas(err, &ae) || ae.Status != 400 || ae.Code != "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE" || !strings.Contains(ae.Detail, "Cluster0") {
		t.Fatalf("delete bucket in use: %v", err)
	}
	off := false
	if _, err := svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{AutoExportEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteBucket(ctx, schedGroupID, other); err != nil {
		t.Fatalf("delete bucket after disabling auto export: %v", err)
	}

	// DELETE removes every policy item: no next snapshot, none taken.
	empty, err := svc.DeleteSchedule(ctx, cl)
	if err != nil || len(empty.Items) != 0 || !svc.NextSnapshot(empty).IsZero() {
		t.Fatalf("delete schedule: %+v %v", empty, err)
	}
	before := obs.taken
	clk.t = clk.t.AddDate(0, 0, 3)
	if err := svc.RunSchedules(ctx); err != nil || obs.taken != before {
		t.Fatalf("a schedule without items took a snapshot (%v)", err)
	}
}

func asAtlas(err error, ae **atlas.Error) bool {
	a, ok := err.(*atlas.Error)
	*ae = a
	return ok
}
