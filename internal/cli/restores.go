package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// Restore jobs are snapex's API extension (docs/restore.md); the Atlas
// SDK has no methods for them, so these commands send their requests
// through the SDK's authenticated HTTP client themselves.

// Table layouts of the restore job commands.
const (
	restoreHeader        = "ID\tSTATE\tTARGET CLUSTER\tDOCUMENTS\tFILES\tNAMESPACES\n"
	restoreRow           = "{{.ID}}\t{{.State}}\t{{.TargetClusterName}}\t{{.Progress.DocumentsRestored}}\t{{.Progress.FilesDone}}\t{{.Progress.NamespacesDone}}\n"
	restoreCreateTable   = "Restore job '{{.ID}}' created into cluster '{{.TargetClusterName}}'.\n"
	restoreListTable     = restoreHeader + "{{range .Results}}" + restoreRow + "{{end}}"
	restoreDescribeTable = restoreHeader + restoreRow
)

// restoreJob is a restore job as the API renders it.
type restoreJob struct {
	ID                 string          `json:"id"`
	ExportJobID        string          `json:"exportJobId,omitempty"`
	SourceURL          string          `json:"sourceUrl,omitempty"`
	SourceRoleID       string          `json:"sourceRoleId,omitempty"`
	TargetClusterName  string          `json:"targetClusterName"`
	TargetDatabaseName string          `json:"targetDatabaseName,omitempty"`
	NsInclude          []string        `json:"nsInclude"`
	NsExclude          []string        `json:"nsExclude"`
	NsFrom             []string        `json:"nsFrom"`
	NsTo               []string        `json:"nsTo"`
	Drop               bool            `json:"drop"`
	Duplicates         string          `json:"duplicates"`
	State              string          `json:"state"`
	StateReason        *stateReason    `json:"stateReason,omitempty"`
	Progress           restoreProgress `json:"progress"`
	Report             json.RawMessage `json:"report,omitempty"`
	CreatedAt          string          `json:"createdAt"`
	FinishedAt         string          `json:"finishedAt,omitempty"`
}

type stateReason struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

type restoreProgress struct {
	DocumentsRestored int64 `json:"documentsRestored"`
	FilesDone         int   `json:"filesDone"`
	NamespacesDone    int   `json:"namespacesDone"`
}

type restoreJobPage struct {
	Results    []restoreJob `json:"results"`
	TotalCount *int         `json:"totalCount,omitempty"`
}

// extension sends one request to a snapex extension route of the
// project and decodes the answer into out.
func (c *call) extension(ctx context.Context, method, path string, query url.Values, body, out any) error {
	cfg := c.api.GetConfig()
	base := "https://cloud.mongodb.com"
	if len(cfg.Servers) > 0 {
		base = cfg.Servers[0].URL
	}
	u := strings.TrimRight(base, "/") + "/api/atlas/v2/groups/" + url.PathEscape(c.groupID) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
	}
	if cfg.UserAgent != "" {
		req.Header.Set("User-Agent", cfg.UserAgent)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var netErr interface{ Timeout() bool }
		if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
			return &unreachableError{fmt.Errorf("cannot reach %s (profile %q): %w", base, c.profile.Name, err)}
		}
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Detail    string `json:"detail"`
			ErrorCode string `json:"errorCode"`
		}
		if json.Unmarshal(raw, &e) == nil && e.ErrorCode != "" {
			return fmt.Errorf("%s (HTTP %d, %s)", e.Detail, resp.StatusCode, e.ErrorCode)
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode the answer to %s %s: %w", method, path, err)
	}
	return nil
}

func restoresPath(cluster string) string {
	return "/clusters/" + url.PathEscape(cluster) + "/backup/snapexRestoreJobs"
}

func restoresCommand(s *session) *cobra.Command {
	cmd := &cobra.Command{Use: "restores", Short: "Load exports into configured clusters on the server (snapex extension)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	cmd.AddCommand(restoreCreate(s), restoreList(s), restoreDescribe(s), restoreWatch(s))
	return cmd
}

func restoreCreate(s *session) *cobra.Command {
	l := &leaf{s: s}
	var cluster string
	var exportID, srcURL, roleID, target, targetDB, dups string
	var include, exclude, from, to []string
	var drop bool
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Restore an export of --clusterName into a configured cluster",
		Example: "  snapex backups restores create --clusterName Cluster0 --exportJobId <id> --targetClusterName Cluster1 --nsInclude 'shop.*'",
		Args:    Positional,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			body := map[string]any{}
			for k, v := range map[string]string{"exportJobId": exportID, "sourceUrl": srcURL, "sourceRoleId": roleID,
				"targetClusterName": target, "targetDatabaseName": targetDB, "duplicates": dups} {
				if v != "" {
					body[k] = v
				}
			}
			for k, v := range map[string][]string{"nsInclude": include, "nsExclude": exclude, "nsFrom": from, "nsTo": to} {
				if len(v) > 0 {
					body[k] = v
				}
			}
			if drop {
				body["drop"] = true
			}
			var job restoreJob
			if err := c.extension(c.ctx, http.MethodPost, restoresPath(cluster), nil, body, &job); err != nil {
				return fmt.Errorf("create restore job: %w", err)
			}
			return c.print.print(job, restoreCreateTable)
		},
	}
	l.addCommon(cmd)
	clusterFlag(cmd, &cluster)
	f := cmd.Flags()
	f.StringVar(&exportID, "exportJobId", "", "a Successful export job of --clusterName to restore")
	f.StringVar(&srcURL, "sourceUrl", "", "or the export's bucket URL (s3://, azure://, gs://), read with --sourceRoleId")
	f.StringVar(&roleID, "sourceRoleId", "", "access role of the project that can read --sourceUrl")
	f.StringVar(&target, "targetClusterName", "", "configured cluster of the project to restore into")
	_ = cmd.MarkFlagRequired("targetClusterName")
	f.StringVar(&targetDB, "targetDatabaseName", "", "restore every namespace into this database")
	f.StringArrayVar(&include, "nsInclude", nil, "restore only namespaces matching this pattern (repeatable)")
	f.StringArrayVar(&exclude, "nsExclude", nil, "skip namespaces matching this pattern (repeatable)")
	f.StringArrayVar(&from, "nsFrom", nil, "rename namespaces matching this pattern (repeatable, paired with --nsTo)")
	f.StringArrayVar(&to, "nsTo", nil, "the new name for the --nsFrom of the same position")
	f.BoolVar(&drop, "drop", false, "drop each target collection before restoring into it")
	f.StringVar(&dups, "duplicates", "", "what to do with an _id already in the target: fail (default), skip or upsert")
	return cmd
}

func restoreList(s *session) *cobra.Command {
	l := &leaf{s: s}
	var page, limit int
	var omitCount bool
	cmd := &cobra.Command{
		Use:   "list <clusterName>",
		Short: "List the restore jobs of a cluster's exports",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			q := url.Values{"pageNum": {fmt.Sprint(page)}, "itemsPerPage": {fmt.Sprint(limit)}, "includeCount": {fmt.Sprint(!omitCount)}}
			var list restoreJobPage
			if err := c.extension(c.ctx, http.MethodGet, restoresPath(args[0]), q, nil, &list); err != nil {
				return fmt.Errorf("list restore jobs of %s: %w", args[0], err)
			}
			return c.print.print(list, restoreListTable)
		},
	}
	l.addCommon(cmd)
	pageFlags(cmd, &page, &limit, &omitCount)
	return cmd
}

func restoreDescribe(s *session) *cobra.Command {
	l := &leaf{s: s}
	var cluster, id string
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show one restore job",
		Args:  Positional,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := l.start(cmd)
			if err != nil {
				return err
			}
			var job restoreJob
			if err := c.extension(c.ctx, http.MethodGet, restoresPath(cluster)+"/"+url.PathEscape(id), nil, nil, &job); err != nil {
				return fmt.Errorf("describe restore job %s: %w", id, err)
			}
			return c.print.print(job, restoreDescribeTable)
		},
	}
	l.addCommon(cmd)
	clusterFlag(cmd, &cluster)
	cmd.Flags().StringVar(&id, "restoreJobId", "", "id of the restore job")
	_ = cmd.MarkFlagRequired("restoreJobId")
	return cmd
}

func restoreWatch(s *session) *cobra.Command {
	return watchCommand(s, "watch <restoreJobId>", "Watch a restore job until it ends; exits non-zero unless it is Successful",
		func(ctx context.Context, c *call, cluster, id string) (Progress, bool, bool, error) {
			var job restoreJob
			if err := c.extension(ctx, http.MethodGet, restoresPath(cluster)+"/"+url.PathEscape(id), nil, nil, &job); err != nil {
				return Progress{}, false, false, fmt.Errorf("describe restore job %s: %w", id, err)
			}
			return restoreJobProgress(&job)
		})
}

// restoreJobProgress reads a restore job's state; Successful is the only
// good end. The line renderer counts collections; a restore reports
// namespaces done instead (their total is known only to the engine).
func restoreJobProgress(job *restoreJob) (Progress, bool, bool, error) {
	p := Progress{Kind: "restore job", ID: job.ID, State: fmt.Sprintf("%s, %d documents", job.State, job.Progress.DocumentsRestored), Object: job}
	if r := job.StateReason; r != nil && r.Message != "" {
		p.Reason = fmt.Sprintf("%s (%s)", r.Message, r.ErrorCode)
	}
	switch job.State {
	case "Successful":
		return p, true, true, nil
	case "Failed", "Cancelled":
		return p, true, false, nil
	}
	return p, false, false, nil
}
