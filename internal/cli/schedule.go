package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// Table layout of the schedule commands: the schedule's settings, then
// one row per policy item.
const scheduleTable = "CLUSTER NAME\tAUTO EXPORT ENABLED\tNEXT SNAPSHOT\tREFERENCE HOUR OF DAY\tREFERENCE MINUTE OF HOUR\tRESTORE WINDOW DAYS\n" +
	"{{val .ClusterName}}\t{{val .AutoExportEnabled}}\t{{when .NextSnapshot}}\t{{val .ReferenceHourOfDay}}\t{{val .ReferenceMinuteOfHour}}\t{{val .RestoreWindowDays}}\n" +
	"{{range .Policies}}\nPOLICY ITEM ID\tFREQUENCY TYPE\tFREQUENCY INTERVAL\tRETENTION\n" +
	"{{range .PolicyItems}}{{val .Id}}\t{{.FrequencyType}}\t{{.FrequencyInterval}}\t{{.RetentionValue}} {{.RetentionUnit}}\n{{end}}{{end}}"

func scheduleCommand(s *session) *cobra.Command {
	cmd := &cobra.Command{Use: "schedule", Short: "Show and change a cluster's backup schedule", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	cmd.AddCommand(scheduleDescribe(s), scheduleUpdate(s))
	return cmd
}

func scheduleDescribe(s *session) *cobra.Command {
	l := &leaf{s: s}
	cmd := &cobra.Command{
		Use:   "describe <clusterName>",
		Short: "Show a cluster's backup schedule",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			sch, _, err := c.api.CloudBackupsApi.GetBackupSchedule(c.ctx, c.groupID, args[0]).Execute()
			if err != nil {
				return apiError(c.profile, "describe the backup schedule of "+args[0], err)
			}
			return c.print.print(sch, scheduleTable)
		},
	}
	l.addCommon(cmd)
	return cmd
}

// scheduleFlags are update's flags; only those given are sent.
type scheduleFlags struct {
	cluster                    string
	hour, minute, restoreDays  int
	autoExport, noAutoExport   bool
	exportBucketID, exportFreq string
	useNames, noUseNames       bool
	policies                   []string
	updateSnapshots            bool
	// ext are the export policy's snapexOptions (--exportFormat, …);
	// plainExport clears them.
	ext         exportOptionFlags
	plainExport bool
}

func scheduleUpdate(s *session) *cobra.Command {
	l := &leaf{s: s}
	f := &scheduleFlags{ext: exportOptionFlags{prefix: "export"}}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Change a cluster's backup schedule (only the settings given)",
		Example: `  snapex backups schedule update --clusterName Cluster0 --referenceHourOfDay 3 --referenceMinuteOfHour 30
  snapex backups schedule update --clusterName Cluster0 --backupPolicy ",,daily,1,days,7" --backupPolicy ",,monthly,40,months,12"
  snapex backups schedule update --clusterName Cluster0 --autoExport --exportBucketId <id> --exportFrequencyType monthly
  snapex backups schedule update --clusterName Cluster0 --exportFormat parquet --exportNsInclude 'shop.*'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := f.request(cmd)
			if err != nil {
				return err
			}
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			opts := f.ext.options(cmd)
			if opts == nil && !f.plainExport {
				sch, _, err := c.api.CloudBackupsApi.UpdateBackupSchedule(c.ctx, c.groupID, f.cluster, req).Execute()
				if err != nil {
					return apiError(c.profile, "update the backup schedule of "+f.cluster, err)
				}
				return c.print.print(sch, scheduleTable)
			}
			sch, err := f.updateWithOptions(c, req, opts)
			if err != nil {
				return err
			}
			return c.print.print(sch, scheduleTable)
		},
	}
	l.addCommon(cmd)
	clusterFlag(cmd, &f.cluster)
	fl := cmd.Flags()
	fl.IntVar(&f.hour, "referenceHourOfDay", 0, "UTC hour of day (0-23) the schedule's snapshots are anchored to")
	fl.IntVar(&f.minute, "referenceMinuteOfHour", 0, "minute of the hour (0-59) the schedule's snapshots are anchored to")
	fl.IntVar(&f.restoreDays, "restoreWindowDays", 0, "days of continuous restore (accepted and returned; snapex has no continuous backup)")
	fl.BoolVar(&f.autoExport, "autoExport", false, "export the snapshots of the export frequency automatically")
	fl.BoolVar(&f.noAutoExport, "noAutoExport", false, "stop automatic exports")
	fl.StringVar(&f.exportBucketID, "exportBucketId", "", "export bucket of the automatic exports")
	fl.StringVar(&f.exportFreq, "exportFrequencyType", "", "which snapshots are exported automatically: daily, weekly, monthly or yearly")
	fl.BoolVar(&f.useNames, "useOrgAndGroupNamesInExportPrefix", false, "name the organization and project in export prefixes instead of their ids")
	fl.BoolVar(&f.noUseNames, "noUseOrgAndGroupNamesInExportPrefix", false, "use the organization and project ids in export prefixes")
	fl.StringArrayVar(&f.policies, "backupPolicy", nil, `a policy item "policyId,policyItemId,frequencyType,frequencyInterval,retentionUnit,retentionValue" (ids may be empty for a new item); repeat for each item: the items given replace the policy's items`)
	fl.BoolVar(&f.updateSnapshots, "updateSnapshots", false, "apply the new retention to the existing scheduled snapshots")
	f.ext.add(cmd)
	fl.BoolVar(&f.plainExport, "exportPlain", false, "snapex extension: drop the export policy's snapexOptions (automatic exports become plain Atlas exports)")
	cmd.MarkFlagsMutuallyExclusive("autoExport", "noAutoExport")
	for _, n := range []string{"format", "nsInclude", "nsExclude", "manifest", "parquetCompression", "parquetRowGroupRows", "parquetFullDocument"} {
		cmd.MarkFlagsMutuallyExclusive("exportPlain", f.ext.name(n))
	}
	cmd.MarkFlagsMutuallyExclusive("useOrgAndGroupNamesInExportPrefix", "noUseOrgAndGroupNamesInExportPrefix")
	return cmd
}

// request builds the PATCH body from the flags that were given.
func (f *scheduleFlags) request(cmd *cobra.Command) (*admin.DiskBackupSnapshotSchedule20240805, error) {
	changed := cmd.Flags().Changed
	req := &admin.DiskBackupSnapshotSchedule20240805{}
	if changed("referenceHourOfDay") {
		req.ReferenceHourOfDay = &f.hour
	}
	if changed("referenceMinuteOfHour") {
		req.ReferenceMinuteOfHour = &f.minute
	}
	if changed("restoreWindowDays") {
		req.RestoreWindowDays = &f.restoreDays
	}
	switch {
	case f.autoExport:
		req.AutoExportEnabled = admin.PtrBool(true)
	case f.noAutoExport:
		req.AutoExportEnabled = admin.PtrBool(false)
	}
	if f.exportBucketID != "" || f.exportFreq != "" {
		req.Export = &admin.AutoExportPolicy{}
		if f.exportBucketID != "" {
			req.Export.ExportBucketId = &f.exportBucketID
		}
		if f.exportFreq != "" {
			req.Export.FrequencyType = &f.exportFreq
		}
	}
	switch {
	case f.useNames:
		req.UseOrgAndGroupNamesInExportPrefix = admin.PtrBool(true)
	case f.noUseNames:
		req.UseOrgAndGroupNamesInExportPrefix = admin.PtrBool(false)
	}
	if len(f.policies) > 0 {
		pol, err := parseBackupPolicies(f.policies)
		if err != nil {
			return nil, err
		}
		req.Policies = []admin.AdvancedDiskBackupSnapshotSchedulePolicy{pol}
	}
	if f.updateSnapshots {
		req.UpdateSnapshots = admin.PtrBool(true)
	}
	return req, nil
}

// parseBackupPolicies reads --backupPolicy values into the schedule's one
// policy; every value must name the same policy id (or none).
func parseBackupPolicies(values []string) (admin.AdvancedDiskBackupSnapshotSchedulePolicy, error) {
	var pol admin.AdvancedDiskBackupSnapshotSchedulePolicy
	pol.PolicyItems = []admin.DiskBackupApiPolicyItem{}
	policyID := ""
	for i, v := range values {
		parts := strings.Split(v, ",")
		if len(parts) != 6 {
			return pol, fmt.Errorf("--backupPolicy %q: want policyId,policyItemId,frequencyType,frequencyInterval,retentionUnit,retentionValue", v)
		}
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		if i > 0 && parts[0] != policyID {
			return pol, fmt.Errorf("--backupPolicy %q: a schedule has one policy, but %q and %q are named", v, policyID, parts[0])
		}
		policyID = parts[0]
		interval, err := strconv.Atoi(parts[3])
		if err != nil {
			return pol, fmt.Errorf("--backupPolicy %q: frequencyInterval %q is not a number", v, parts[3])
		}
		value, err := strconv.Atoi(parts[5])
		if err != nil {
			return pol, fmt.Errorf("--backupPolicy %q: retentionValue %q is not a number", v, parts[5])
		}
		item := admin.DiskBackupApiPolicyItem{FrequencyType: parts[2], FrequencyInterval: interval, RetentionUnit: parts[4], RetentionValue: value}
		if parts[1] != "" {
			item.Id = admin.PtrString(parts[1])
		}
		pol.PolicyItems = append(pol.PolicyItems, item)
	}
	if policyID != "" {
		pol.Id = &policyID
	}
	return pol, nil
}

// updateWithOptions sends the PATCH with export.snapexOptions (nil opts:
// an explicit null, which clears them). The export policy object replaces
// the current one, so a bucket or frequency not given is taken from the
// current schedule.
func (f *scheduleFlags) updateWithOptions(c *call, req *admin.DiskBackupSnapshotSchedule20240805, opts map[string]any) (*admin.DiskBackupSnapshotSchedule20240805, error) {
	what := "update the backup schedule of " + f.cluster
	if req.Export == nil || req.Export.ExportBucketId == nil || req.Export.FrequencyType == nil {
		cur, _, err := c.api.CloudBackupsApi.GetBackupSchedule(c.ctx, c.groupID, f.cluster).Execute()
		if err != nil {
			return nil, apiError(c.profile, what, err)
		}
		if req.Export == nil {
			req.Export = &admin.AutoExportPolicy{}
		}
		if req.Export.ExportBucketId == nil {
			req.Export.ExportBucketId = cur.GetExport().ExportBucketId
		}
		if req.Export.FrequencyType == nil {
			req.Export.FrequencyType = cur.GetExport().FrequencyType
		}
	}
	var sch admin.DiskBackupSnapshotSchedule20240805
	path := "/clusters/" + url.PathEscape(f.cluster) + "/backup/schedule"
	err := sendExtended(c, http.MethodPatch, path, "2024-08-05", req, func(m map[string]any) {
		exp, _ := m["export"].(map[string]any)
		if exp == nil {
			exp = map[string]any{}
			m["export"] = exp
		}
		exp["snapexOptions"] = opts
	}, &sch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &sch, nil
}
