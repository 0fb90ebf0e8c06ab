package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/snapex/snapex/internal/atlas"
)

func (s *Server) getSchedule(c *call) error {
	sch, err := s.Service.Schedule(c.r.Context(), c.cluster)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, s.newScheduleView(c.r, c.v, c.cluster, sch, s.Service.NextSnapshot(sch)))
	return nil
}

func (s *Server) deleteSchedule(c *call) error {
	sch, err := s.Service.DeleteSchedule(c.r.Context(), c.cluster)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, s.newScheduleView(c.r, c.v, c.cluster, sch, s.Service.NextSnapshot(sch)))
	return nil
}

func (s *Server) patchSchedule(c *call) error {
	o, aerr := readObject(c.r)
	if aerr != nil {
		return aerr
	}
	p, aerr := decodeSchedulePatch(o, c.v)
	if aerr != nil {
		return aerr
	}
	sch, err := s.Service.UpdateSchedule(c.r.Context(), c.cluster, p)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, s.newScheduleView(c.r, c.v, c.cluster, sch, s.Service.NextSnapshot(sch)))
	return nil
}

// decodeSchedulePatch reads a PATCH body field by field, so every error
// names its attribute; read-only fields a client echoes back are ignored.
func decodeSchedulePatch(o *object, v apiVersion) (atlas.SchedulePatch, *atlas.Error) {
	var p atlas.SchedulePatch
	o.ignore("clusterId", "clusterName", "links", "nextSnapshot", "deleteCopiedBackups", "updateCopySnapshots", "deleteCopySnapshots")
	ints := []struct {
		name string
		dst  **int
	}{{"referenceHourOfDay", &p.ReferenceHourOfDay}, {"referenceMinuteOfHour", &p.ReferenceMinuteOfHour}, {"restoreWindowDays", &p.RestoreWindowDays}}
	for _, f := range ints {
		n, ok, aerr := o.integer(f.name)
		if aerr != nil {
			return p, aerr
		}
		if ok {
			*f.dst = &n
		}
	}
	bools := []struct {
		name string
		dst  **bool
	}{{"autoExportEnabled", &p.AutoExportEnabled}, {"useOrgAndGroupNamesInExportPrefix", &p.UseOrgAndGroupNamesInExportPrefix},
		{"copyPolicyItemsEnabled", &p.CopyPolicyItemsEnabled}}
	if v.date >= scheduleV20240805.date {
		bools = append(bools, struct {
			name string
			dst  **bool
		}{"autoCopySettingsEnabled", &p.AutoCopySettingsEnabled})
	}
	for _, f := range bools {
		b, ok, aerr := o.boolean(f.name)
		if aerr != nil {
			return p, aerr
		}
		if ok {
			*f.dst = &b
		}
	}
	var aerr *atlas.Error
	if p.UpdateSnapshots, _, aerr = o.boolean("updateSnapshots"); aerr != nil {
		return p, aerr
	}
	if p.DeleteSnapshots, _, aerr = o.boolean("deleteSnapshots"); aerr != nil {
		return p, aerr
	}
	if p.CopySettings, aerr = o.array("copySettings"); aerr != nil {
		return p, aerr
	}
	if p.ExtraRetentionSettings, aerr = extraRetention(o); aerr != nil {
		return p, aerr
	}
	if aerr := exportPolicy(o, &p); aerr != nil {
		return p, aerr
	}
	if o.has("policies") {
		pols, aerr := decodePolicies(o.fields["policies"])
		if aerr != nil {
			return p, aerr
		}
		p.Policies = &pols
	}
	o.used["policies"] = true
	return p, o.unknown()
}

type policyItemBody struct {
	ID                *string `json:"id"`
	FrequencyType     *string `json:"frequencyType"`
	FrequencyInterval *int    `json:"frequencyInterval"`
	RetentionUnit     *string `json:"retentionUnit"`
	RetentionValue    *int    `json:"retentionValue"`
}

func decodePolicies(raw json.RawMessage) ([]atlas.PolicyPatch, *atlas.Error) {
	var pols []struct {
		ID          *string           `json:"id"`
		PolicyItems *[]policyItemBody `json:"policyItems"`
	}
	if err := strictJSON(raw, &pols); err != nil {
		return nil, atlas.ErrInvalidJSONAttribute("policies", "an array of {id, policyItems} objects")
	}
	out := make([]atlas.PolicyPatch, 0, len(pols))
	for i, pol := range pols {
		pp := atlas.PolicyPatch{Items: []atlas.PolicyItem{}}
		if pol.ID != nil {
			pp.ID = *pol.ID
		}
		if pol.PolicyItems == nil {
			return nil, atlas.ErrMissingAttribute(fmt.Sprintf("policies[%d].policyItems", i))
		}
		for j, it := range *pol.PolicyItems {
			field := fmt.Sprintf("policies[%d].policyItems[%d]", i, j)
			switch {
			case it.FrequencyType == nil:
				return nil, atlas.ErrMissingAttribute(field + ".frequencyType")
			case it.FrequencyInterval == nil:
				return nil, atlas.ErrMissingAttribute(field + ".frequencyInterval")
			case it.RetentionUnit == nil:
				return nil, atlas.ErrMissingAttribute(field + ".retentionUnit")
			case it.RetentionValue == nil:
				return nil, atlas.ErrMissingAttribute(field + ".retentionValue")
			}
			item := atlas.PolicyItem{FrequencyType: atlas.Frequency(*it.FrequencyType), FrequencyInterval: *it.FrequencyInterval,
				RetentionUnit: atlas.RetentionUnit(*it.RetentionUnit), RetentionValue: *it.RetentionValue}
			if it.ID != nil {
				item.ID = *it.ID
			}
			pp.Items = append(pp.Items, item)
		}
		out = append(out, pp)
	}
	return out, nil
}

// strictJSON decodes raw into v, refusing unknown fields.
func strictJSON(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// array reads an optional JSON array field as raw JSON.
func (o *object) array(name string) (json.RawMessage, *atlas.Error) {
	o.used[name] = true
	if !o.has(name) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(o.fields[name], &items); err != nil {
		return nil, atlas.ErrInvalidJSONAttribute(name, "an array")
	}
	return o.fields[name], nil
}

// extraRetentionFrequencies is ExtraRetentionSetting.frequencyType's enum.
var extraRetentionFrequencies = []string{"HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "ON_DEMAND"}

// extraRetention reads extraRetentionSettings, checking each entry's
// shape so that what is stored and returned matches the schema; snapex
// keeps the settings without acting on them.
func extraRetention(o *object) (json.RawMessage, *atlas.Error) {
	raw, aerr := o.array("extraRetentionSettings")
	if aerr != nil || raw == nil {
		return raw, aerr
	}
	var list []struct {
		FrequencyType *string `json:"frequencyType"`
		RetentionDays *int    `json:"retentionDays"`
	}
	if err := strictJSON(raw, &list); err != nil {
		return nil, atlas.ErrInvalidJSONAttribute("extraRetentionSettings", "an array of {frequencyType, retentionDays} objects")
	}
	for i, e := range list {
		if e.FrequencyType != nil && !slices.Contains(extraRetentionFrequencies, *e.FrequencyType) {
			return nil, atlas.ErrInvalidEnumValue(fmt.Sprintf("extraRetentionSettings[%d].frequencyType", i), *e.FrequencyType,
				"one of "+strings.Join(extraRetentionFrequencies, ", "))
		}
		if e.RetentionDays != nil && *e.RetentionDays < 1 {
			return nil, atlas.ErrInvalidAttribute(fmt.Sprintf("extraRetentionSettings[%d].retentionDays", i), fmt.Sprint(*e.RetentionDays), "a positive number of days is expected")
		}
	}
	return raw, nil
}
