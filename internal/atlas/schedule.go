package atlas

import (
	"encoding/json"
	"hash/fnv"
	"time"
)

// Frequency is a backup policy item's frequencyType.
type Frequency string

// Policy item frequencies, shortest first.
const (
	Hourly  Frequency = "hourly"
	Daily   Frequency = "daily"
	Weekly  Frequency = "weekly"
	Monthly Frequency = "monthly"
	Yearly  Frequency = "yearly"
)

// Frequencies lists the policy item frequencies, shortest first.
var Frequencies = []Frequency{Hourly, Daily, Weekly, Monthly, Yearly}

// Rank orders frequencies from shortest (1, hourly) to longest (5,
// yearly); an unknown frequency ranks 0.
func (f Frequency) Rank() int {
	for i, g := range Frequencies {
		if g == f {
			return i + 1
		}
	}
	return 0
}

// RetentionUnit is a policy item's retentionUnit.
type RetentionUnit string

// Retention units as the spec spells them.
const (
	RetainDays   RetentionUnit = "days"
	RetainWeeks  RetentionUnit = "weeks"
	RetainMonths RetentionUnit = "months"
	RetainYears  RetentionUnit = "years"
)

// LastDayOfMonthInterval is the monthly frequencyInterval meaning "the
// last day of the month".
const LastDayOfMonthInterval = 40

// PolicyItem is one rule of a backup policy: when snapshots are taken and
// how long they are kept.
type PolicyItem struct {
	ID                string
	FrequencyType     Frequency
	FrequencyInterval int
	RetentionUnit     RetentionUnit
	RetentionValue    int
}

// AutoExport is a schedule's export policy.
type AutoExport struct {
	ExportBucketID string
	FrequencyType  Frequency
	// SnapexOptions are the snapexOptions every automatic export job gets
	// (nil: plain Atlas exports). Omitted when empty so stored schedules
	// without them keep their exact encoding.
	SnapexOptions *ExportOptions `json:",omitempty"`
}

// ScheduledSnapshot is what a scheduled snapshot records beyond the
// common snapshot fields: the slot it serves, the ids of the policy items
// it serves, the bucket its automatic export goes to ("" when none) and
// that export's snapexOptions, both fixed when the snapshot is queued.
type ScheduledSnapshot struct {
	ScheduledFor      time.Time
	PolicyItems       []string
	AutoExportBucket  string
	AutoExportOptions *ExportOptions
}

// Schedule is a cluster's backup schedule: one policy of items, the
// reference time its snapshots are anchored to, and the auto-export
// policy. CopySettings, ExtraRetentionSettings and the copy flags are kept
// and returned as the client sent them; snapex does not act on them.
type Schedule struct {
	GroupID                           string
	ClusterName                       string
	PolicyID                          string
	Items                             []PolicyItem
	ReferenceHourOfDay                int
	ReferenceMinuteOfHour             int
	RestoreWindowDays                 int
	AutoExportEnabled                 bool
	Export                            *AutoExport
	UseOrgAndGroupNamesInExportPrefix bool
	CopySettings                      json.RawMessage
	ExtraRetentionSettings            json.RawMessage
	CopyPolicyItemsEnabled            *bool
	AutoCopySettingsEnabled           *bool
}

// DefaultSchedule is the schedule every cluster starts with: Atlas's
// default cloud backup policy (hourly every 6 hours kept 7 days, daily
// kept 7 days, weekly on Saturday kept 4 weeks, monthly on the last day
// kept 12 months). The reference time is spread over the day by the
// cluster's id, as Atlas picks one per cluster, so replicas serving many
// clusters do not start every snapshot in the same minute; the ids are
// derived from now so a new schedule gets fresh ones.
func DefaultSchedule(c Cluster, now time.Time) *Schedule {
	h := fnv.New32a()
	_, _ = h.Write([]byte(c.ID()))
	sum := h.Sum32()
	return &Schedule{
		GroupID: c.GroupID, ClusterName: c.Name, PolicyID: NewObjectID(now),
		ReferenceHourOfDay: int(sum % 24), ReferenceMinuteOfHour: int(sum / 24 % 60), RestoreWindowDays: 7,
		Items: []PolicyItem{
			{ID: NewObjectID(now), FrequencyType: Hourly, FrequencyInterval: 6, RetentionUnit: RetainDays, RetentionValue: 7},
			{ID: NewObjectID(now), FrequencyType: Daily, FrequencyInterval: 1, RetentionUnit: RetainDays, RetentionValue: 7},
			{ID: NewObjectID(now), FrequencyType: Weekly, FrequencyInterval: 6, RetentionUnit: RetainWeeks, RetentionValue: 4},
			{ID: NewObjectID(now), FrequencyType: Monthly, FrequencyInterval: LastDayOfMonthInterval, RetentionUnit: RetainMonths, RetentionValue: 12},
		},
	}
}

// Item returns the policy item with the given id.
func (s *Schedule) Item(id string) (PolicyItem, bool) {
	for _, it := range s.Items {
		if it.ID == id {
			return it, true
		}
	}
	return PolicyItem{}, false
}

// AutoExportBucket is the bucket auto export writes into, or "" when auto
// export is off.
func (s *Schedule) AutoExportBucket() string {
	if !s.AutoExportEnabled || s.Export == nil {
		return ""
	}
	return s.Export.ExportBucketID
}
