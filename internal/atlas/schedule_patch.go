package atlas

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// SchedulePatch is a decoded PATCH of a backup schedule: nil fields were
// not named and keep their current value.
type SchedulePatch struct {
	// Policies replaces the policy; at most one, as the spec's maxItems.
	Policies              *[]PolicyPatch
	ReferenceHourOfDay    *int
	ReferenceMinuteOfHour *int
	RestoreWindowDays     *int
	AutoExportEnabled     *bool
	// Export replaces the export policy; its SnapexOptions, when nil, keep
	// the current ones unless ClearExportOptions (an explicit null), so
	// Atlas clients that know nothing of them do not drop them.
	Export                            *AutoExport
	ClearExportOptions                bool
	UseOrgAndGroupNamesInExportPrefix *bool
	CopySettings                      json.RawMessage
	ExtraRetentionSettings            json.RawMessage
	CopyPolicyItemsEnabled            *bool
	AutoCopySettingsEnabled           *bool
	// UpdateSnapshots re-applies the new retention to earlier snapshots.
	UpdateSnapshots bool
	// DeleteSnapshots deletes earlier snapshots of removed policy items.
	DeleteSnapshots bool
}

// PolicyPatch is one policy of a PATCH: its id (optional) and its items;
// an item with an id updates that existing item, one without is new.
type PolicyPatch struct {
	ID    string
	Items []PolicyItem
}

// maxRetentionDays bounds any item's retention (ten years, as on-demand
// snapshots).
const maxRetentionDays = 3660

// validIntervals lists the frequencyInterval values Atlas accepts per
// frequencyType.
var validIntervals = map[Frequency][]int{
	Hourly:  {1, 2, 4, 6, 8, 12},
	Daily:   {1},
	Weekly:  {1, 2, 3, 4, 5, 6, 7},
	Monthly: append(seq(1, 28), LastDayOfMonthInterval),
	Yearly:  seq(1, 12),
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from+1)
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// ValidInterval reports whether Atlas accepts interval for frequency f.
func ValidInterval(f Frequency, interval int) bool {
	return slices.Contains(validIntervals[f], interval)
}

// ExportFrequencies are the export policy frequencies snapex accepts: the
// spec lists monthly and yearly, Atlas's docs and Terraform also daily and
// weekly; all four are meaningful here.
var ExportFrequencies = []Frequency{Daily, Weekly, Monthly, Yearly}

// Apply returns cur with the patch applied, or the Atlas error naming the
// first field that is unacceptable. New policy items get ids from now.
func (p SchedulePatch) Apply(cur *Schedule, now time.Time) (*Schedule, *Error) {
	next := *cur
	next.Items = slices.Clone(cur.Items)
	if p.Policies != nil {
		items, err := p.items(cur, now)
		if err != nil {
			return nil, err
		}
		next.Items = items
	}
	if p.ReferenceHourOfDay != nil {
		if h := *p.ReferenceHourOfDay; h < 0 || h > 23 {
			return nil, ErrInvalidAttribute("referenceHourOfDay", strconv.Itoa(h), "an hour of day from 0 to 23 (UTC) is expected")
		}
		next.ReferenceHourOfDay = *p.ReferenceHourOfDay
	}
	if p.ReferenceMinuteOfHour != nil {
		if m := *p.ReferenceMinuteOfHour; m < 0 || m > 59 {
			return nil, ErrInvalidAttribute("referenceMinuteOfHour", strconv.Itoa(m), "a minute of the hour from 0 to 59 is expected")
		}
		next.ReferenceMinuteOfHour = *p.ReferenceMinuteOfHour
	}
	if p.RestoreWindowDays != nil {
		if d := *p.RestoreWindowDays; d < 1 || d > 365 {
			return nil, ErrInvalidAttribute("restoreWindowDays", strconv.Itoa(d), "a positive number of days up to 365 is expected")
		}
		next.RestoreWindowDays = *p.RestoreWindowDays
	}
	if p.AutoExportEnabled != nil {
		next.AutoExportEnabled = *p.AutoExportEnabled
	}
	if p.Export != nil {
		if err := validateExport(*p.Export); err != nil {
			return nil, err
		}
		e := *p.Export
		if e.SnapexOptions == nil && !p.ClearExportOptions && cur.Export != nil {
			e.SnapexOptions = cur.Export.SnapexOptions
		}
		next.Export = &e
	}
	if next.AutoExportEnabled && (next.Export == nil || next.Export.ExportBucketID == "") {
		return nil, ErrMissingAttribute("export.exportBucketId")
	}
	if next.AutoExportEnabled && next.Export.FrequencyType == "" {
		return nil, ErrMissingAttribute("export.frequencyType")
	}
	if p.UseOrgAndGroupNamesInExportPrefix != nil {
		next.UseOrgAndGroupNamesInExportPrefix = *p.UseOrgAndGroupNamesInExportPrefix
	}
	if p.CopySettings != nil {
		next.CopySettings = p.CopySettings
	}
	if p.ExtraRetentionSettings != nil {
		next.ExtraRetentionSettings = p.ExtraRetentionSettings
	}
	if p.CopyPolicyItemsEnabled != nil {
		next.CopyPolicyItemsEnabled = p.CopyPolicyItemsEnabled
	}
	if p.AutoCopySettingsEnabled != nil {
		next.AutoCopySettingsEnabled = p.AutoCopySettingsEnabled
	}
	return &next, nil
}

func validateExport(e AutoExport) *Error {
	if e.ExportBucketID != "" && !ValidObjectID(e.ExportBucketID) {
		return ErrInvalidAttribute("export.exportBucketId", e.ExportBucketID, "a 24-hexadecimal-character export bucket id is expected")
	}
	if e.FrequencyType != "" && !slices.Contains(ExportFrequencies, e.FrequencyType) {
		return ErrInvalidEnumValue("export.frequencyType", string(e.FrequencyType), "daily, weekly, monthly or yearly")
	}
	if e.SnapexOptions != nil {
		return e.SnapexOptions.NormalizeAt("export.snapexOptions")
	}
	return nil
}

// items validates the patch's policy against the current one and returns
// the new item list.
func (p SchedulePatch) items(cur *Schedule, now time.Time) ([]PolicyItem, *Error) {
	pols := *p.Policies
	if len(pols) > 1 {
		return nil, ErrInvalidAttribute("policies", strconv.Itoa(len(pols))+" policies", "a cluster's backup schedule has exactly one policy")
	}
	if len(pols) == 0 {
		return []PolicyItem{}, nil
	}
	pol := pols[0]
	if pol.ID != "" && pol.ID != cur.PolicyID {
		return nil, ErrInvalidAttribute("policies[0].id", pol.ID, "this is not the id of the cluster's backup policy ("+cur.PolicyID+")")
	}
	seen := map[string]bool{}
	out := make([]PolicyItem, 0, len(pol.Items))
	for i, it := range pol.Items {
		field := fmt.Sprintf("policies[0].policyItems[%d]", i)
		if it.ID != "" {
			if _, ok := cur.Item(it.ID); !ok {
				return nil, ErrInvalidAttribute(field+".id", it.ID, "no policy item with this id exists in the cluster's backup policy; omit the id to add an item")
			}
			if seen[it.ID] {
				return nil, ErrInvalidAttribute(field+".id", it.ID, "the same policy item id appears more than once")
			}
			seen[it.ID] = true
		} else {
			it.ID = NewObjectID(now)
		}
		if err := ValidatePolicyItem(field, it); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	if err := validateRetentionOrder(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidatePolicyItem checks one item's frequency, interval and retention;
// field prefixes the attribute names in errors.
func ValidatePolicyItem(field string, it PolicyItem) *Error {
	if it.FrequencyType.Rank() == 0 {
		return ErrInvalidEnumValue(field+".frequencyType", string(it.FrequencyType), "hourly, daily, weekly, monthly or yearly")
	}
	if !ValidInterval(it.FrequencyType, it.FrequencyInterval) {
		return ErrInvalidAttribute(field+".frequencyInterval", strconv.Itoa(it.FrequencyInterval), intervalRule(it.FrequencyType))
	}
	switch it.RetentionUnit {
	case RetainDays, RetainWeeks, RetainMonths, RetainYears:
	default:
		return ErrInvalidEnumValue(field+".retentionUnit", string(it.RetentionUnit), "days, weeks, months or years")
	}
	if it.RetentionValue < 1 || RetentionDays(it.RetentionUnit, it.RetentionValue) > maxRetentionDays {
		return ErrInvalidAttribute(field+".retentionValue", strconv.Itoa(it.RetentionValue),
			"a retention of at least 1 "+string(it.RetentionUnit)+" and at most 10 years is expected")
	}
	return nil
}

func intervalRule(f Frequency) string {
	switch f {
	case Hourly:
		return "an hourly item takes a snapshot every 1, 2, 4, 6, 8 or 12 hours"
	case Daily:
		return "a daily item's frequencyInterval is 1"
	case Weekly:
		return "a weekly item's frequencyInterval is a day of the week from 1 (Monday) to 7 (Sunday)"
	case Monthly:
		return "a monthly item's frequencyInterval is a day of the month from 1 to 28, or 40 for the last day"
	}
	return "a yearly item's frequencyInterval is a month from 1 (January) to 12 (December)"
}

// validateRetentionOrder enforces that a less frequent item keeps its
// snapshots at least as long as a more frequent one.
func validateRetentionOrder(items []PolicyItem) *Error {
	for _, a := range items {
		for _, b := range items {
			if b.FrequencyType.Rank() > a.FrequencyType.Rank() &&
				RetentionDays(b.RetentionUnit, b.RetentionValue) < RetentionDays(a.RetentionUnit, a.RetentionValue) {
				return ErrInvalidAttribute(fmt.Sprintf("policies[0].policyItems[%d].retentionValue", indexOf(items, b)),
					fmt.Sprintf("%d %s", b.RetentionValue, b.RetentionUnit),
					fmt.Sprintf("a %s item must keep its snapshots at least as long as the %s item (%d %s)",
						b.FrequencyType, a.FrequencyType, a.RetentionValue, a.RetentionUnit))
			}
		}
	}
	return nil
}

func indexOf(items []PolicyItem, x PolicyItem) int {
	for i, it := range items {
		if it == x {
			return i
		}
	}
	return -1
}
