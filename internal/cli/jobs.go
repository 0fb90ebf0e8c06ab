package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// Table layouts of the export job commands.
const (
	jobCreateTable = "Export job '{{val .Id}}' created in a bucket with ID '{{.ExportBucketId}}'.\n"
	jobHeader      = "ID\tEXPORT BUCKET ID\tSTATE\tSNAPSHOT ID\tEXPORTED\n"
	jobRow         = "{{val .Id}}\t{{.ExportBucketId}}\t{{val .State}}\t{{val .SnapshotId}}\t{{with .ExportStatus}}{{val .ExportedCollections}}/{{val .TotalCollections}}{{end}}\n"
	jobListTable   = jobHeader + "{{range .Results}}" + jobRow + "{{end}}"
	// A failed or cancelled job says why under its row.
	jobDescribeTable = jobHeader + jobRow + "{{with .StateReason}}Reason: {{val .Message}} ({{val .ErrorCode}})\n{{end}}"
)

func jobsCommand(s *session) *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "Manage export jobs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	cmd.AddCommand(jobCreate(s), jobList(s), jobDescribe(s), jobWatch(s))
	return cmd
}

func jobCreate(s *session) *cobra.Command {
	l := &leaf{s: s}
	var cluster, bucketID, snapshotID string
	var custom map[string]string
	var ext exportOptionFlags
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Export a snapshot into an export bucket",
		Example: "  snapex backups exports jobs create --clusterName Cluster0 --bucketId <id> --snapshotId <id> --customData team=data,ticket=42",
		Args:    Positional,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			req := &admin.DiskBackupExportJobRequest{ExportBucketId: bucketID, SnapshotId: snapshotID}
			if len(custom) > 0 {
				labels := make([]admin.BackupLabel, 0, len(custom))
				for _, k := range slices.Sorted(maps.Keys(custom)) {
					labels = append(labels, admin.BackupLabel{Key: admin.PtrString(k), Value: admin.PtrString(custom[k])})
				}
				req.CustomData = &labels
			}
			if opts := ext.options(cmd); opts != nil {
				job, err := createExportWithOptions(c, cluster, req, opts)
				if err != nil {
					return err
				}
				return c.print.print(job, jobCreateTable)
			}
			job, _, err := c.api.CloudBackupsApi.CreateBackupExport(c.ctx, c.groupID, cluster, req).Execute()
			if err != nil {
				return apiError(c.profile, "create export job", err)
			}
			return c.print.print(job, jobCreateTable)
		},
	}
	l.addCommon(cmd)
	clusterFlag(cmd, &cluster)
	bucketFlag(cmd, &bucketID)
	cmd.Flags().StringVar(&snapshotID, "snapshotId", "", "id of the snapshot to export")
	_ = cmd.MarkFlagRequired("snapshotId")
	cmd.Flags().StringToStringVar(&custom, "customData", nil, "key=value pairs written into the export's .complete file")
	ext.add(cmd)
	return cmd
}

func jobList(s *session) *cobra.Command {
	l := &leaf{s: s}
	var page, limit int
	var omitCount bool
	cmd := &cobra.Command{
		Use:   "list <clusterName>",
		Short: "List the export jobs of a cluster",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			list, _, err := c.api.CloudBackupsApi.ListBackupExports(c.ctx, c.groupID, args[0]).
				PageNum(page).ItemsPerPage(limit).IncludeCount(!omitCount).Execute()
			if err != nil {
				return apiError(c.profile, "list export jobs of "+args[0], err)
			}
			return c.print.print(list, jobListTable)
		},
	}
	l.addCommon(cmd)
	pageFlags(cmd, &page, &limit, &omitCount)
	return cmd
}

func jobDescribe(s *session) *cobra.Command {
	l := &leaf{s: s}
	var cluster, id string
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show one export job",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			job, _, err := c.api.CloudBackupsApi.GetBackupExport(c.ctx, c.groupID, cluster, id).Execute()
			if err != nil {
				return apiError(c.profile, "describe export job "+id, err)
			}
			return c.print.print(job, jobDescribeTable)
		},
	}
	l.addCommon(cmd)
	clusterFlag(cmd, &cluster)
	cmd.Flags().StringVar(&id, "exportId", "", "id of the export job")
	_ = cmd.MarkFlagRequired("exportId")
	return cmd
}

func jobWatch(s *session) *cobra.Command {
	return watchCommand(s, "watch <exportId>", "Watch an export job until it ends; exits non-zero unless it is Successful",
		func(ctx context.Context, c *call, cluster, id string) (Progress, bool, bool, error) {
			ctx, sink := withBodySink(ctx)
			job, _, err := c.api.CloudBackupsApi.GetBackupExport(ctx, c.groupID, cluster, id).Execute()
			if err != nil {
				return Progress{}, false, false, apiError(c.profile, "describe export job "+id, err)
			}
			p, terminal, ok, err := jobProgress(id, job)
			addExtension(&p, sink.body)
			return p, terminal, ok, err
		})
}

// jobProgress reads an export job's state; Successful is the only good end.
func jobProgress(id string, job *admin.DiskBackupExportJob) (Progress, bool, bool, error) {
	p := Progress{Kind: "export job", ID: id, State: job.GetState(), Object: job}
	if st, ok := job.GetExportStatusOk(); ok {
		p.Done, p.Total = st.GetExportedCollections(), st.GetTotalCollections()
	}
	if r, ok := job.GetStateReasonOk(); ok && r.GetMessage() != "" {
		p.Reason = r.GetMessage()
		if code := r.GetErrorCode(); code != "" {
			p.Reason = fmt.Sprintf("%s (%s)", p.Reason, code)
		}
	}
	switch p.State {
	case "Successful":
		return p, true, true, nil
	case "Failed", "Cancelled":
		return p, true, false, nil
	}
	return p, false, false, nil
}
