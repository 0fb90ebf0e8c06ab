package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// scheduleView is DiskBackupSnapshotSchedule(20240805); fields in the
// schema's alphabetical order.
type scheduleView struct {
	AutoCopySettingsEnabled           *bool           `json:"autoCopySettingsEnabled,omitempty"`
	AutoExportEnabled                 bool            `json:"autoExportEnabled"`
	ClusterID                         string          `json:"clusterId"`
	ClusterName                       string          `json:"clusterName"`
	CopyPolicyItemsEnabled            *bool           `json:"copyPolicyItemsEnabled,omitempty"`
	CopySettings                      json.RawMessage `json:"copySettings"`
	Export                            *exportView     `json:"export,omitempty"`
	ExtraRetentionSettings            json.RawMessage `json:"extraRetentionSettings"`
	Links                             []link          `json:"links"`
	NextSnapshot                      string          `json:"nextSnapshot,omitempty"`
	Policies                          []policyView    `json:"policies"`
	ReferenceHourOfDay                int             `json:"referenceHourOfDay"`
	ReferenceMinuteOfHour             int             `json:"referenceMinuteOfHour"`
	RestoreWindowDays                 int             `json:"restoreWindowDays"`
	UseOrgAndGroupNamesInExportPrefix bool            `json:"useOrgAndGroupNamesInExportPrefix"`
}

type exportView struct {
	ExportBucketID string `json:"exportBucketId,omitempty"`
	FrequencyType  string `json:"frequencyType,omitempty"`
	// SnapexOptions is snapex's extension, present only when set, so a
	// schedule without it renders exactly as Atlas's.
	SnapexOptions *atlas.ExportOptions `json:"snapexOptions,omitempty"`
}

type policyView struct {
	ID          string           `json:"id"`
	PolicyItems []policyItemView `json:"policyItems"`
}

type policyItemView struct {
	FrequencyInterval int    `json:"frequencyInterval"`
	FrequencyType     string `json:"frequencyType"`
	ID                string `json:"id"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
}

var emptyArray = json.RawMessage("[]")

func (s *Server) newScheduleView(r *http.Request, v apiVersion, c atlas.Cluster, sch *atlas.Schedule, next time.Time) scheduleView {
	self := s.origin(r) + "/api/atlas/v2/groups/" + c.GroupID + "/clusters/" + c.Name + "/backup/schedule"
	out := scheduleView{
		AutoExportEnabled: sch.AutoExportEnabled, ClusterID: c.ID(), ClusterName: c.Name,
		CopyPolicyItemsEnabled: sch.CopyPolicyItemsEnabled, CopySettings: orEmpty(sch.CopySettings),
		ExtraRetentionSettings: orEmpty(sch.ExtraRetentionSettings), Links: []link{{Href: self, Rel: "self"}},
		NextSnapshot: optionalTimestamp(next), ReferenceHourOfDay: sch.ReferenceHourOfDay,
		ReferenceMinuteOfHour: sch.ReferenceMinuteOfHour, RestoreWindowDays: sch.RestoreWindowDays,
		UseOrgAndGroupNamesInExportPrefix: sch.UseOrgAndGroupNamesInExportPrefix,
	}
	if v.date >= scheduleV20240805.date {
		out.AutoCopySettingsEnabled = sch.AutoCopySettingsEnabled
		if out.AutoCopySettingsEnabled == nil {
			f := false
			out.AutoCopySettingsEnabled = &f
		}
	}
	if sch.Export != nil {
		out.Export = &exportView{ExportBucketID: sch.Export.ExportBucketID, FrequencyType: string(sch.Export.FrequencyType),
			SnapexOptions: sch.Export.SnapexOptions}
	}
	pol := policyView{ID: sch.PolicyID, PolicyItems: []policyItemView{}}
	for _, it := range sch.Items {
		pol.PolicyItems = append(pol.PolicyItems, policyItemView{FrequencyInterval: it.FrequencyInterval, FrequencyType: string(it.FrequencyType),
			ID: it.ID, RetentionUnit: string(it.RetentionUnit), RetentionValue: it.RetentionValue})
	}
	out.Policies = []policyView{pol}
	return out
}

func orEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return emptyArray
	}
	return raw
}

// nonNilStrings makes a list render as [] rather than null.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
