package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// Table layouts of the bucket commands. ROLE ID is iamRoleId for AWS and
// roleId for Azure and GCP.
const (
	bucketCreateTable   = "Export destination '{{.Id}}' created using '{{.BucketName}}'.\n"
	bucketRow           = "{{.Id}}\t{{.BucketName}}\t{{.CloudProvider}}\t{{if .IamRoleId}}{{val .IamRoleId}}{{else}}{{val .RoleId}}{{end}}\n"
	bucketHeader        = "ID\tBUCKET NAME\tCLOUD PROVIDER\tROLE ID\n"
	bucketListTable     = bucketHeader + "{{range .Results}}" + bucketRow + "{{end}}"
	bucketDescribeTable = bucketHeader + bucketRow
)

func bucketsCommand(s *session) *cobra.Command {
	cmd := &cobra.Command{Use: "buckets", Short: "Manage export buckets", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	cmd.AddCommand(bucketCreate(s), bucketList(s), bucketDescribe(s), bucketDelete(s))
	return cmd
}

func bucketCreate(s *session) *cobra.Command {
	l := &leaf{s: s}
	var provider, iamRoleID, roleID, serviceURL string
	cmd := &cobra.Command{
		Use:   "create <bucketName>",
		Short: "Register a bucket (or Azure container) as an export destination",
		Example: `  snapex backups exports buckets create my-exports --cloudProvider AWS --iamRoleId 6570c1e2a8d4a2b3c4d5e6f7
  snapex backups exports buckets create exports --cloudProvider AZURE --roleId <id> --serviceUrl https://acct.blob.core.windows.net/exports`,
		Args: Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			req := &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: strings.ToUpper(provider), BucketName: &args[0]}
			if iamRoleID != "" {
				req.IamRoleId = &iamRoleID
			}
			if roleID != "" {
				req.RoleId = &roleID
			}
			if serviceURL != "" {
				req.ServiceUrl = &serviceURL
			}
			b, _, err := c.api.CloudBackupsApi.CreateExportBucket(c.ctx, c.groupID, req).Execute()
			if err != nil {
				return apiError(c.profile, "create export bucket "+args[0], err)
			}
			return c.print.print(b, bucketCreateTable)
		},
	}
	l.addCommon(cmd)
	cmd.Flags().StringVar(&provider, "cloudProvider", "", "cloud provider of the bucket: AWS, AZURE or GCP")
	_ = cmd.MarkFlagRequired("cloudProvider")
	cmd.Flags().StringVar(&iamRoleID, "iamRoleId", "", "access role id for an AWS bucket")
	cmd.Flags().StringVar(&roleID, "roleId", "", "access role id for an Azure or GCP bucket")
	cmd.Flags().StringVar(&serviceURL, "serviceUrl", "", "URL of the Azure storage account or container")
	return cmd
}

func bucketList(s *session) *cobra.Command {
	l := &leaf{s: s}
	var page, limit int
	var omitCount bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the export buckets of a project",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			list, _, err := c.api.CloudBackupsApi.ListExportBuckets(c.ctx, c.groupID).
				PageNum(page).ItemsPerPage(limit).IncludeCount(!omitCount).Execute()
			if err != nil {
				return apiError(c.profile, "list export buckets", err)
			}
			return c.print.print(list, bucketListTable)
		},
	}
	l.addCommon(cmd)
	pageFlags(cmd, &page, &limit, &omitCount)
	return cmd
}

// bucketFlag registers the required --bucketId.
func bucketFlag(cmd *cobra.Command, id *string) {
	cmd.Flags().StringVar(id, "bucketId", "", "id of the export bucket")
	_ = cmd.MarkFlagRequired("bucketId")
}

func bucketDescribe(s *session) *cobra.Command {
	l := &leaf{s: s}
	var id string
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show one export bucket",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			b, _, err := c.api.CloudBackupsApi.GetExportBucket(c.ctx, c.groupID, id).Execute()
			if err != nil {
				return apiError(c.profile, "describe export bucket "+id, err)
			}
			return c.print.print(b, bucketDescribeTable)
		},
	}
	l.addCommon(cmd)
	bucketFlag(cmd, &id)
	return cmd
}

func bucketDelete(s *session) *cobra.Command {
	l := &leaf{s: s}
	var id string
	var force bool
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Remove an export bucket (the bucket's contents stay)",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			if !confirm(cmd, force, fmt.Sprintf("Are you sure you want to delete export bucket %s?", id)) {
				fmt.Fprintln(cmd.OutOrStdout(), "Export bucket not deleted")
				return nil
			}
			if _, err := c.api.CloudBackupsApi.DeleteExportBucket(c.ctx, c.groupID, id).Execute(); err != nil {
				return apiError(c.profile, "delete export bucket "+id, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Export bucket '%s' deleted\n", id)
			return nil
		},
	}
	l.addCommon(cmd)
	bucketFlag(cmd, &id)
	cmd.Flags().BoolVar(&force, "force", false, "delete without asking")
	return cmd
}
