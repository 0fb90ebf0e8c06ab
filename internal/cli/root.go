package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// Env is what the backups commands take from their surroundings.
type Env struct {
	// Getenv reads environment variables (os.Getenv in the binary).
	Getenv func(string) string
	// UserAgent names the client in requests.
	UserAgent string
}

// NewBackupsCommand returns `backups` with its snapshots, exports and
// schedule subcommands.
func NewBackupsCommand(env Env) *cobra.Command {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	cmd := &cobra.Command{
		Use:     "backups",
		Aliases: []string{"backup"},
		Short:   "Manage cloud backup snapshots, exports and schedules (Atlas CLI compatible)",
		Long: `Manage cloud backup snapshots, export buckets, export jobs and backup schedules through the
Atlas Admin API, against snapex or Atlas itself.

Connection settings come from a profile in the profiles file (see --profile),
overridden by MONGODB_ATLAS_PUBLIC_API_KEY, MONGODB_ATLAS_PRIVATE_API_KEY,
MONGODB_ATLAS_CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET, MONGODB_ATLAS_ORG_ID,
MONGODB_ATLAS_PROJECT_ID and MONGODB_ATLAS_OPS_MANAGER_URL, then by flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	profile := cmd.PersistentFlags().StringP("profile", "P", DefaultProfile, "name of the profile to use from the profiles file ($SNAPEX_CLI_CONFIG, default $XDG_CONFIG_HOME/snapex/config.toml)")
	s := &session{env: env, profile: profile}
	exports := &cobra.Command{Use: "exports", Short: "Manage export buckets and export jobs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	exports.AddCommand(bucketsCommand(s), jobsCommand(s))
	cmd.AddCommand(snapshotsCommand(s), exports, scheduleCommand(s), restoresCommand(s))
	return cmd
}

// session resolves the profile and client for one command run.
type session struct {
	env     Env
	profile *string
}

// leaf holds the flags every API command has.
type leaf struct {
	s         *session
	projectID string
	output    string
}

// addCommon registers --projectId and --output on cmd.
func (l *leaf) addCommon(cmd *cobra.Command) {
	l.addProject(cmd)
	cmd.Flags().StringVarP(&l.output, "output", "o", "", "output format: json, go-template=TEMPLATE or go-template-file=FILE (default: a table)")
}

// addProject registers --projectId alone, for commands whose output is
// messages rather than an object (watch).
func (l *leaf) addProject(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.projectID, "projectId", "", "hexadecimal string that identifies the project to use; overrides the profile and MONGODB_ATLAS_PROJECT_ID")
}

// call is what a command run needs: the request context, the client, the
// project id and the printer.
type call struct {
	ctx     context.Context
	api     *admin.APIClient
	profile Profile
	groupID string
	print   printer
}

// start loads the profile and builds the client.
func (l *leaf) start(cmd *cobra.Command) (*call, error) {
	file, err := ProfilesFile(l.s.env.Getenv)
	if err != nil {
		return nil, err
	}
	p, err := LoadProfile(file, *l.s.profile, l.s.env.Getenv)
	if err != nil {
		return nil, err
	}
	format := l.output
	if format == "" {
		format = p.Output
	}
	if err := validateFormat(format); err != nil {
		return nil, err
	}
	groupID := l.projectID
	if groupID == "" {
		groupID = p.ProjectID
	}
	if groupID == "" {
		return nil, fmt.Errorf("no project: pass --projectId, set project_id in profile %q of %s, or set MONGODB_ATLAS_PROJECT_ID", p.Name, file)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	api, err := newClient(ctx, p, l.s.env.UserAgent)
	if err != nil {
		return nil, err
	}
	return &call{ctx: ctx, api: api, profile: p, groupID: groupID, print: printer{format: format, out: cmd.OutOrStdout()}}, nil
}

// confirm asks before a delete unless --force; a closed or non-yes answer
// declines.
func confirm(cmd *cobra.Command, force bool, question string) bool {
	if force {
		return true
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// Positional requires exactly the positional arguments named in the
// command's Use line ("describe <snapshotId>") and, when they are missing
// or too many, says which ones the command takes.
func Positional(cmd *cobra.Command, got []string) error {
	var names []string
	for _, f := range strings.Fields(cmd.Use) {
		if strings.HasPrefix(f, "<") && strings.HasSuffix(f, ">") {
			names = append(names, f)
		}
	}
	switch {
	case len(got) < len(names):
		return fmt.Errorf("missing %s; usage: %s", strings.Join(names[len(got):], " "), cmd.UseLine())
	case len(got) > len(names):
		return fmt.Errorf("unexpected argument(s) %q; usage: %s", got[len(names):], cmd.UseLine())
	}
	return nil
}

// pollInterval registers --interval on a watch command.
func pollInterval(cmd *cobra.Command, d *time.Duration) {
	cmd.Flags().DurationVar(d, "interval", 2*time.Second, "how often to poll the API")
}
