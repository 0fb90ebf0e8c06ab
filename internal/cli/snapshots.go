package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// Table layouts of the snapshot commands.
const (
	snapshotCreateTable = "Snapshot '{{val .Id}}' created.\n"
	snapshotListTable   = "ID\tTYPE\tSTATUS\tCREATED AT\tEXPIRES AT\n{{range .Results}}{{val .Id}}\t{{val .SnapshotType}}\t{{val .Status}}\t{{when .CreatedAt}}\t{{when .ExpiresAt}}\n{{end}}"
	// A failed snapshot says why under its row (snapex's
	// snapexFailureReason; Atlas gives no reason).
	snapshotDescribeTable = "ID\tSNAPSHOT TYPE\tTYPE\tSTATUS\tDESCRIPTION\tEXPIRES AT\n{{val .Id}}\t{{val .SnapshotType}}\t{{val .Type}}\t{{val .Status}}\t{{val .Description}}\t{{when .ExpiresAt}}\n" +
		"{{with .FailureReason}}Reason: {{.}}\n{{end}}"
)

func snapshotsCommand(s *session) *cobra.Command {
	cmd := &cobra.Command{Use: "snapshots", Aliases: []string{"snapshot"}, Short: "Manage cloud backup snapshots", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	cmd.AddCommand(snapshotCreate(s), snapshotList(s), snapshotDescribe(s), snapshotWatch(s), snapshotDelete(s))
	return cmd
}

func snapshotCreate(s *session) *cobra.Command {
	l := &leaf{s: s}
	var desc string
	var retention int
	cmd := &cobra.Command{
		Use:     "create <clusterName>",
		Short:   "Take an on-demand snapshot of a cluster",
		Example: "  snapex backups snapshots create Cluster0 --desc \"before migration\" --retention 7",
		Args:    Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			req := &admin.DiskBackupOnDemandSnapshotRequest{RetentionInDays: &retention}
			if desc != "" {
				req.Description = &desc
			}
			sn, _, err := c.api.CloudBackupsApi.TakeSnapshots(c.ctx, c.groupID, args[0], req).Execute()
			if err != nil {
				return apiError(c.profile, "take a snapshot of "+args[0], err)
			}
			return c.print.print(sn, snapshotCreateTable)
		},
	}
	l.addCommon(cmd)
	cmd.Flags().StringVar(&desc, "desc", "", "description of the on-demand snapshot")
	cmd.Flags().IntVar(&retention, "retention", 1, "number of days to keep the snapshot")
	return cmd
}

func snapshotList(s *session) *cobra.Command {
	l := &leaf{s: s}
	var page, limit int
	var omitCount bool
	cmd := &cobra.Command{
		Use:   "list <clusterName>",
		Short: "List the snapshots of a cluster",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			list, _, err := c.api.CloudBackupsApi.ListBackupSnapshots(c.ctx, c.groupID, args[0]).
				PageNum(page).ItemsPerPage(limit).IncludeCount(!omitCount).Execute()
			if err != nil {
				return apiError(c.profile, "list snapshots of "+args[0], err)
			}
			return c.print.print(list, snapshotListTable)
		},
	}
	l.addCommon(cmd)
	pageFlags(cmd, &page, &limit, &omitCount)
	return cmd
}

// pageFlags registers the Atlas CLI's pagination flags.
func pageFlags(cmd *cobra.Command, page, limit *int, omitCount *bool) {
	cmd.Flags().IntVar(page, "page", 1, "page number of the results")
	cmd.Flags().IntVar(limit, "limit", 100, "number of items per page, at most 500")
	cmd.Flags().BoolVar(omitCount, "omitCount", false, "leave totalCount out of the JSON response")
}

func snapshotDescribe(s *session) *cobra.Command {
	l := &leaf{s: s}
	var cluster string
	cmd := &cobra.Command{
		Use:   "describe <snapshotId>",
		Short: "Show one snapshot",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			ctx, sink := withBodySink(c.ctx)
			sn, _, err := c.api.CloudBackupsApi.GetClusterBackupSnapshot(ctx, c.groupID, cluster, args[0]).Execute()
			if err != nil {
				return apiError(c.profile, "describe snapshot "+args[0], err)
			}
			if c.print.format != "" {
				return c.print.print(sn, snapshotDescribeTable) // Atlas's fields, as the Atlas CLI prints them
			}
			return c.print.print(describedSnapshot{sn, failureReason(sink.body)}, snapshotDescribeTable)
		},
	}
	l.addCommon(cmd)
	clusterFlag(cmd, &cluster)
	return cmd
}

// describedSnapshot is a snapshot as the describe table shows it: Atlas's
// fields and why it failed, when it did.
type describedSnapshot struct {
	*admin.DiskBackupReplicaSet
	FailureReason string
}

// clusterFlag registers the required --clusterName.
func clusterFlag(cmd *cobra.Command, cluster *string) {
	cmd.Flags().StringVar(cluster, "clusterName", "", "name of the cluster")
	_ = cmd.MarkFlagRequired("clusterName")
}

func snapshotWatch(s *session) *cobra.Command {
	return watchCommand(s, "watch <snapshotId>", "Watch a snapshot until it completes; exits non-zero if it fails",
		func(ctx context.Context, c *call, cluster, id string) (Progress, bool, bool, error) {
			ctx, sink := withBodySink(ctx)
			sn, _, err := c.api.CloudBackupsApi.GetClusterBackupSnapshot(ctx, c.groupID, cluster, id).Execute()
			if err != nil {
				return Progress{}, false, false, apiError(c.profile, "describe snapshot "+id, err)
			}
			p := Progress{Kind: "snapshot", ID: id, State: sn.GetStatus(), Object: sn, Unit: "captured"}
			addExtension(&p, sink.body)
			switch sn.GetStatus() {
			case "completed":
				return p, true, true, nil
			case "failed", "cancelled":
				return p, true, false, nil
			}
			return p, false, false, nil
		})
}

func snapshotDelete(s *session) *cobra.Command {
	l := &leaf{s: s}
	var cluster string
	var force bool
	cmd := &cobra.Command{
		Use:   "delete <snapshotId>",
		Short: "Delete a snapshot",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			if !confirm(cmd, force, fmt.Sprintf("Are you sure you want to delete snapshot %s?", args[0])) {
				fmt.Fprintln(cmd.OutOrStdout(), "Snapshot not deleted")
				return nil
			}
			if _, err := c.api.CloudBackupsApi.DeleteClusterBackupSnapshot(c.ctx, c.groupID, cluster, args[0]).Execute(); err != nil {
				return apiError(c.profile, "delete snapshot "+args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Snapshot '%s' deleted\n", args[0])
			return nil
		},
	}
	l.addCommon(cmd)
	clusterFlag(cmd, &cluster)
	cmd.Flags().BoolVar(&force, "force", false, "delete without asking")
	return cmd
}
