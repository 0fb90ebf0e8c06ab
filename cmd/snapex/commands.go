package main

import (
	"fmt"
	"os"

	"github.com/snapex/snapex/internal/cli"
	"github.com/snapex/snapex/internal/config"
	"github.com/spf13/cobra"
)

// newRootCommand is the whole command tree: the service's admin commands
// and the API client's backups commands.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "snapex",
		Short:         "Atlas-compatible snapshot and export service for self-managed MongoDB",
		Version:       version,
		SilenceUsage:  true, // a failed run prints its error, not the usage
		SilenceErrors: true, // main prints it once, prefixed
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(verifyCommand())
	root.AddCommand(serveCommand(), initCommand(), configCommand(), snapshotCommand(), exportCommand(), restoreCommand(), versionCommand(),
		cli.NewBackupsCommand(cli.Env{Getenv: os.Getenv, UserAgent: "snapex-cli/" + version}))
	return root
}

func serveCommand() *cobra.Command {
	var cfgPath, listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the service (without --config: use or create the starter setup in ./snapex-data)",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return runServe(cfgPath, listen) },
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "config file (default: ./snapex-data/snapex.yaml, created on first run)")
	cmd.Flags().StringVar(&listen, "listen", "", "listen address, overriding the config's listen")
	return cmd
}

func initCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a starter config (organization, project, API key) and a CLI profile for it",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := writeStarter(dir, os.Stderr)
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "snapex-data", "directory to create the starter setup in")
	return cmd
}

func configCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with the service's config file", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var cfgPath string
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate a config file without starting; reports every problem at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := config.Check(cfgPath); err != nil {
				if errs, ok := err.(config.Errors); ok {
					fmt.Fprintln(cmd.ErrOrStderr(), errs.Error())
					return fmt.Errorf("%s: %d problem(s)", cfgPath, len(errs))
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", cfgPath)
			return nil
		},
	}
	check.Flags().StringVar(&cfgPath, "config", "snapex-data/snapex.yaml", "config file to check")
	cmd.AddCommand(check)
	return cmd
}

func snapshotCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "snapshot", Short: "Manage snapshot storage directly (on the server's host)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var o importOptions
	imp := &cobra.Command{
		Use:   "import <dir>",
		Short: "Register a mongodump directory as a completed snapshot; prints its id",
		Args:  cli.Positional,
		RunE:  func(_ *cobra.Command, args []string) error { o.dir = args[0]; return runSnapshotImport(o) },
	}
	imp.Flags().StringVar(&o.cfgPath, "config", "snapex-data/snapex.yaml", "config file")
	imp.Flags().StringVar(&o.project, "project", "", "project (group) id")
	imp.Flags().StringVar(&o.cluster, "cluster", "", "cluster name")
	imp.Flags().StringVar(&o.replicaSet, "replica-set", "", "replica set of a flat dump (default: the cluster's only replica set)")
	imp.Flags().IntVar(&o.retentionDays, "retention-days", 30, "days until the snapshot expires")
	_ = imp.MarkFlagRequired("project")
	_ = imp.MarkFlagRequired("cluster")
	cmd.AddCommand(imp)
	return cmd
}

func exportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Manage exports directly (on the server's host)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var cfgPath string
	cancel := &cobra.Command{
		Use:   "cancel <exportId>",
		Short: "Stop an export at its next chunk; it ends Cancelled",
		Args:  cli.Positional,
		RunE:  func(_ *cobra.Command, args []string) error { return runExportCancel(cfgPath, args[0]) },
	}
	cancel.Flags().StringVar(&cfgPath, "config", "snapex-data/snapex.yaml", "config file")
	cmd.AddCommand(cancel)
	return cmd
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText(readBuildInfo()))
			return err
		},
	}
}
