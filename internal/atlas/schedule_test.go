package atlas

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestIntervalTable checks every frequency against every interval from
// -1 to 41: exactly Atlas's combinations are accepted.
func TestIntervalTable(t *testing.T) {
	want := map[Frequency]string{
		Hourly: "1 2 4 6 8 12", Daily: "1", Weekly: "1 2 3 4 5 6 7",
		Monthly: "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 40",
		Yearly:  "1 2 3 4 5 6 7 8 9 10 11 12",
	}
	for _, f := range append(slices.Clone(Frequencies), "ondemand", "") {
		var ok []string
		for n := -1; n <= 41; n++ {
			it := PolicyItem{FrequencyType: f, FrequencyInterval: n, RetentionUnit: RetainYears, RetentionValue: 1}
			valid := ValidatePolicyItem("item", it) == nil
			if valid != ValidInterval(f, n) {
				t.Errorf("%s/%d: ValidatePolicyItem %v, ValidInterval %v", f, n, valid, ValidInterval(f, n))
			}
			if valid {
				ok = append(ok, fmt.Sprint(n))
			}
			// Every valid item has slots and they satisfy it; an invalid
			// one must not be accepted anywhere.
			if valid {
				next := it.Next(utc("2024-02-28T23:59"), 3, 15)
				if next.IsZero() || !it.Satisfies(next, 3, 15) {
					t.Errorf("%s/%d: Next %v does not satisfy the item", f, n, next)
				}
				if prev := it.Prev(next, 3, 15); !prev.Equal(next) {
					t.Errorf("%s/%d: Prev(Next) = %v, want %v", f, n, prev, next)
				}
			}
		}
		if got := joinOK(ok); got != want[f] {
			t.Errorf("%q accepts %q, want %q", f, got, want[f])
		}
	}
}

func joinOK(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestNextAndPrev(t *testing.T) {
	cases := []struct {
		f          Frequency
		n          int
		h, m       int
		from       string
		next, prev string
	}{
		{Hourly, 1, 0, 30, "2026-12-05T10:30", "2026-12-05T11:30", "2026-12-05T10:30"},
		{Hourly, 6, 2, 0, "2026-12-05T10:30", "2026-12-05T14:00", "2026-12-05T08:00"},
		{Hourly, 12, 13, 5, "2026-12-31T23:00", "2027-01-01T01:05", "2026-12-31T13:05"},
		{Hourly, 8, 23, 0, "2026-12-05T00:00", "2026-12-05T07:00", "2026-12-04T23:00"},
		{Daily, 1, 3, 15, "2026-12-05T03:15", "2026-12-06T03:15", "2026-12-05T03:15"},
		{Daily, 1, 3, 15, "2026-12-31T04:00", "2027-01-01T03:15", "2026-12-31T03:15"},
		{Weekly, 6, 0, 0, "2026-12-05T12:00", "2026-12-12T00:00", "2026-12-05T00:00"}, // 5 Dec 2026 is a Saturday
		{Weekly, 7, 0, 0, "2026-12-05T12:00", "2026-12-06T00:00", "2026-11-29T00:00"},
		{Weekly, 1, 0, 0, "2026-12-05T12:00", "2026-12-07T00:00", "2026-11-30T00:00"},
		{Monthly, 40, 22, 0, "2024-02-01T00:00", "2024-02-29T22:00", "2024-01-31T22:00"}, // leap year
		{Monthly, 40, 22, 0, "2025-02-01T00:00", "2025-02-28T22:00", "2025-01-31T22:00"}, // common year
		{Monthly, 40, 22, 0, "2026-04-30T22:00", "2026-05-31T22:00", "2026-04-30T22:00"}, // 30-day month
		{Monthly, 28, 0, 0, "2026-02-28T00:01", "2026-03-28T00:00", "2026-02-28T00:00"},
		{Monthly, 1, 0, 0, "2026-12-31T23:59", "2027-01-01T00:00", "2026-12-01T00:00"},
		{Yearly, 2, 6, 0, "2026-12-05T00:00", "2027-02-01T06:00", "2026-02-01T06:00"},
		{Yearly, 12, 6, 0, "2026-12-01T06:00", "2027-12-01T06:00", "2026-12-01T06:00"},
	}
	for _, c := range cases {
		it := PolicyItem{FrequencyType: c.f, FrequencyInterval: c.n}
		from := utc(c.from)
		if got := it.Next(from, c.h, c.m); !got.Equal(utc(c.next)) {
			t.Errorf("%s/%d ref %02d:%02d Next(%s) = %v, want %s", c.f, c.n, c.h, c.m, c.from, got, c.next)
		}
		if got := it.Prev(from, c.h, c.m); !got.Equal(utc(c.prev)) {
			t.Errorf("%s/%d ref %02d:%02d Prev(%s) = %v, want %s", c.f, c.n, c.h, c.m, c.from, got, c.prev)
		}
	}
}

func TestSatisfiesRejectsOffMinuteAndSeconds(t *testing.T) {
	it := PolicyItem{FrequencyType: Daily, FrequencyInterval: 1}
	if it.Satisfies(utc("2026-12-05T03:15").Add(time.Second), 3, 15) {
		t.Error("a time with seconds satisfied a daily item")
	}
	if it.Satisfies(utc("2026-12-05T03:16"), 3, 15) {
		t.Error("the wrong minute satisfied a daily item")
	}
	if !it.Satisfies(utc("2026-12-05T03:15").In(time.FixedZone("X", 3600)), 3, 15) {
		t.Error("a slot expressed in another zone did not satisfy the item (times are compared in UTC)")
	}
}

func TestRetention(t *testing.T) {
	cases := []struct {
		from string
		u    RetentionUnit
		v    int
		want string
	}{
		{"2026-12-05T10:00", RetainDays, 7, "2026-12-12T10:00"},
		{"2026-12-05T10:00", RetainWeeks, 4, "2027-01-02T10:00"},
		{"2026-01-31T10:00", RetainMonths, 1, "2026-02-28T10:00"},
		{"2024-01-31T10:00", RetainMonths, 1, "2024-02-29T10:00"},
		{"2026-03-31T10:00", RetainMonths, 1, "2026-04-30T10:00"},
		{"2026-12-31T10:00", RetainMonths, 2, "2027-02-28T10:00"},
		{"2026-05-15T10:00", RetainMonths, 12, "2027-05-15T10:00"},
		{"2024-02-29T10:00", RetainYears, 1, "2025-02-28T10:00"},
		{"2024-02-29T10:00", RetainYears, 4, "2028-02-29T10:00"},
	}
	for _, c := range cases {
		if got := RetentionEnd(utc(c.from), c.u, c.v); !got.Equal(utc(c.want)) {
			t.Errorf("%s + %d %s = %v, want %s", c.from, c.v, c.u, got, c.want)
		}
	}
}

func TestDueAndLabels(t *testing.T) {
	s := &Schedule{ReferenceHourOfDay: 0, ReferenceMinuteOfHour: 0, Items: []PolicyItem{
		{ID: "h", FrequencyType: Hourly, FrequencyInterval: 6, RetentionUnit: RetainDays, RetentionValue: 2},
		{ID: "d", FrequencyType: Daily, FrequencyInterval: 1, RetentionUnit: RetainDays, RetentionValue: 7},
		{ID: "m", FrequencyType: Monthly, FrequencyInterval: 40, RetentionUnit: RetainMonths, RetentionValue: 12},
	}}
	// Normal pass just after midnight on 1 Dec: the hourly and daily slot coincide.
	slot, items, missed := s.Due(utc("2026-11-30T18:00"), utc("2026-12-01T00:00").Add(20*time.Second))
	if !slot.Equal(utc("2026-12-01T00:00")) || ids(items) != "h,d" || missed != 0 {
		t.Errorf("Due = %v %s %d", slot, ids(items), missed)
	}
	if l := SnapshotLabel(items); l != Daily {
		t.Errorf("label %s, want daily", l)
	}
	if e := LongestRetention(slot, items); !e.Equal(utc("2026-12-08T00:00")) {
		t.Errorf("expiry %v", e)
	}
	// Nothing due twice.
	if slot2, _, _ := s.Due(slot, utc("2026-12-01T05:59")); !slot2.IsZero() {
		t.Errorf("due again at %v", slot2)
	}
	// Down from 30 Nov 12:00 until 1 Dec 13:00: one catch-up snapshot at the
	// latest slot serving every missed item; 30 Nov 18:00, 1 Dec 00:00 and
	// 06:00 are counted as missed.
	slot, items, missed = s.Due(utc("2026-11-30T12:00"), utc("2026-12-01T13:00"))
	if !slot.Equal(utc("2026-12-01T12:00")) || ids(items) != "h,d" || missed != 3 {
		t.Errorf("catch-up Due = %v %s missed %d", slot, ids(items), missed)
	}
	slot, items, missed = s.Due(utc("2026-11-29T18:00"), utc("2026-12-01T01:00"))
	if !slot.Equal(utc("2026-12-01T00:00")) || ids(items) != "h,d,m" || missed != 4 || SnapshotLabel(items) != Monthly {
		t.Errorf("catch-up over month end Due = %v %s missed %d", slot, ids(items), missed)
	}
	if e := LongestRetention(slot, items); !e.Equal(utc("2027-12-01T00:00")) {
		t.Errorf("expiry of a monthly catch-up %v", e)
	}
	if n := s.NextSnapshot(utc("2026-12-01T00:00")); !n.Equal(utc("2026-12-01T06:00")) {
		t.Errorf("NextSnapshot %v", n)
	}
	if got := ids(s.ItemsAt(utc("2026-11-30T00:00"))); got != "h,d,m" {
		t.Errorf("ItemsAt month end %s", got)
	}
}

func ids(items []PolicyItem) string {
	s := ""
	for i, it := range items {
		if i > 0 {
			s += ","
		}
		s += it.ID
	}
	return s
}

func TestAutoExports(t *testing.T) {
	weeklyAndMonthly := SnapshotLabel([]PolicyItem{{FrequencyType: Weekly}, {FrequencyType: Monthly}})
	if !AutoExports(weeklyAndMonthly, Monthly) || AutoExports(weeklyAndMonthly, Weekly) {
		t.Error("a weekly-and-monthly snapshot must be exported by a monthly policy only")
	}
	if AutoExports("", Monthly) || !AutoExports(Daily, Daily) || AutoExports(Hourly, Daily) {
		t.Error("AutoExports table wrong")
	}
}

func TestSchedulePatch(t *testing.T) {
	now := utc("2026-12-05T10:00")
	cur := DefaultSchedule(Cluster{GroupID: "g", Name: "c"}, now)
	item := func(id string, f Frequency, n int, u RetentionUnit, v int) PolicyItem {
		return PolicyItem{ID: id, FrequencyType: f, FrequencyInterval: n, RetentionUnit: u, RetentionValue: v}
	}
	pols := func(id string, items ...PolicyItem) *[]PolicyPatch { return &[]PolicyPatch{{ID: id, Items: items}} }
	ip := func(n int) *int { return &n }
	tr := true
	bad := []struct {
		name  string
		p     SchedulePatch
		field string
	}{
		{"unknown item id", SchedulePatch{Policies: pols("", item("aaaaaaaaaaaaaaaaaaaaaaaa", Daily, 1, RetainDays, 7))}, "policies[0].policyItems[0].id"},
		{"repeated item id", SchedulePatch{Policies: pols("", item(cur.Items[0].ID, Hourly, 6, RetainDays, 7), item(cur.Items[0].ID, Hourly, 6, RetainDays, 7))}, "policies[0].policyItems[1].id"},
		{"wrong policy id", SchedulePatch{Policies: pols("bbbbbbbbbbbbbbbbbbbbbbbb")}, "policies[0].id"},
		{"two policies", SchedulePatch{Policies: &[]PolicyPatch{{}, {}}}, "policies"},
		{"hourly 3", SchedulePatch{Policies: pols("", item("", Hourly, 3, RetainDays, 7))}, "policies[0].policyItems[0].frequencyInterval"},
		{"bad unit", SchedulePatch{Policies: pols("", item("", Daily, 1, "fortnights", 7))}, "policies[0].policyItems[0].retentionUnit"},
		{"zero retention", SchedulePatch{Policies: pols("", item("", Daily, 1, RetainDays, 0))}, "policies[0].policyItems[0].retentionValue"},
		{"too long", SchedulePatch{Policies: pols("", item("", Yearly, 1, RetainYears, 11))}, "policies[0].policyItems[0].retentionValue"},
		{"monthly shorter than daily", SchedulePatch{Policies: pols("", item("", Daily, 1, RetainDays, 40), item("", Monthly, 1, RetainMonths, 1))}, "policies[0].policyItems[1].retentionValue"},
		{"hour 24", SchedulePatch{ReferenceHourOfDay: ip(24)}, "referenceHourOfDay"},
		{"minute -1", SchedulePatch{ReferenceMinuteOfHour: ip(-1)}, "referenceMinuteOfHour"},
		{"minute 60", SchedulePatch{ReferenceMinuteOfHour: ip(60)}, "referenceMinuteOfHour"},
		{"restore window 0", SchedulePatch{RestoreWindowDays: ip(0)}, "restoreWindowDays"},
		{"auto export without bucket", SchedulePatch{AutoExportEnabled: &tr}, "export.exportBucketId"},
		{"hourly export", SchedulePatch{Export: &AutoExport{ExportBucketID: "cccccccccccccccccccccccc", FrequencyType: Hourly}}, "export.frequencyType"},
		{"bad bucket id", SchedulePatch{Export: &AutoExport{ExportBucketID: "x", FrequencyType: Daily}}, "export.exportBucketId"},
	}
	for _, c := range bad {
		_, err := c.p.Apply(cur, now)
		if err == nil || err.Status != 400 || !slices.Contains(err.Params, c.field) {
			t.Errorf("%s: got %v, want a 400 naming %s", c.name, err, c.field)
		}
	}
	keep := cur.Items[3]
	keep.RetentionValue = 24
	next, err := SchedulePatch{
		Policies:           pols(cur.PolicyID, item(cur.Items[0].ID, Hourly, 12, RetainDays, 3), keep, item("", Yearly, 1, RetainYears, 3)),
		ReferenceHourOfDay: ip(5), AutoExportEnabled: &tr, Export: &AutoExport{ExportBucketID: "cccccccccccccccccccccccc", FrequencyType: Monthly},
	}.Apply(cur, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Items) != 3 || next.Items[0].ID != cur.Items[0].ID || next.Items[0].FrequencyInterval != 12 ||
		next.Items[1].ID != keep.ID || next.Items[1].RetentionValue != 24 || !ValidObjectID(next.Items[2].ID) || next.ReferenceHourOfDay != 5 ||
		next.AutoExportBucket() != "cccccccccccccccccccccccc" || next.ReferenceMinuteOfHour != cur.ReferenceMinuteOfHour {
		t.Errorf("patched schedule %+v", next)
	}
	if cur.Items[0].FrequencyInterval != 6 {
		t.Error("Apply changed the current schedule")
	}
}

func TestDefaultScheduleIsValid(t *testing.T) {
	s := DefaultSchedule(Cluster{GroupID: "6000000000000000000000aa", Name: "Cluster0"}, time.Now())
	for i, it := range s.Items {
		if err := ValidatePolicyItem(fmt.Sprint(i), it); err != nil {
			t.Error(err)
		}
	}
	if err := validateRetentionOrder(s.Items); err != nil {
		t.Error(err)
	}
	if s.ReferenceHourOfDay < 0 || s.ReferenceHourOfDay > 23 || s.ReferenceMinuteOfHour < 0 || s.ReferenceMinuteOfHour > 59 {
		t.Errorf("reference time %d:%d", s.ReferenceHourOfDay, s.ReferenceMinuteOfHour)
	}
}

func TestSafeKeySegment(t *testing.T) {
	cases := map[string]string{
		"My Org":        "My_Org",
		"a/b\\c?d#e%f":  "abcdef",
		"Prod (EU) v2.": "Prod_(EU)_v2.",
		"Ünïcødé":       "ncd",
		"///":           "ID",
		"..":            "ID",
	}
	for in, want := range cases {
		if got := SafeKeySegment(in, "ID"); got != want {
			t.Errorf("SafeKeySegment(%q) = %q, want %q", in, got, want)
		}
	}
	p := ExportPrefixFor(true, Organization{Name: "Acme Inc"}, Project{ID: "g", OrgID: "o", Name: "web/app"}, "C0", utc("2026-12-05T10:00"), utc("2026-12-05T10:00"))
	if p != "exported_snapshots/Acme_Inc/webapp/C0/2026-12-05T1000/1796464800" {
		t.Errorf("prefix %s", p)
	}
}
