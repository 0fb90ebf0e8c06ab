package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// exportOptionFlags are the jobs create flags of snapex's export
// extensions (snapexOptions on the create-export body).
type exportOptionFlags struct {
	format       string
	include      []string
	exclude      []string
	manifest     bool
	compression  string
	rowGroupRows int
	fullDocument bool
}

func (f *exportOptionFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "", "snapex extension: output format, ejson (Atlas's gzipped Extended JSON, the default) or parquet")
	fl.StringArrayVar(&f.include, "nsInclude", nil, "snapex extension: export only namespaces matching this mongodump pattern (db.coll, * wildcard; repeatable)")
	fl.StringArrayVar(&f.exclude, "nsExclude", nil, "snapex extension: skip namespaces matching this mongodump pattern (repeatable)")
	fl.BoolVar(&f.manifest, "manifest", false, "snapex extension: write manifest.json (sizes, counts, SHA-256) before .complete; always on for parquet")
	fl.StringVar(&f.compression, "parquetCompression", "", "snapex extension: Parquet compression, zstd (default), snappy or gzip")
	fl.IntVar(&f.rowGroupRows, "parquetRowGroupRows", 0, "snapex extension: most rows per Parquet row group (default 100000)")
	fl.BoolVar(&f.fullDocument, "parquetFullDocument", false, "snapex extension: add a _document column with each whole document as Extended JSON")
}

// options returns the snapexOptions object the flags describe, or nil
// when none was given (the request is then exactly Atlas's).
func (f *exportOptionFlags) options(cmd *cobra.Command) map[string]any {
	fl := cmd.Flags()
	o := map[string]any{}
	if fl.Changed("format") {
		o["format"] = f.format
	}
	if fl.Changed("nsInclude") {
		o["nsInclude"] = f.include
	}
	if fl.Changed("nsExclude") {
		o["nsExclude"] = f.exclude
	}
	if fl.Changed("manifest") {
		o["manifest"] = f.manifest
	}
	pq := map[string]any{}
	if fl.Changed("parquetCompression") {
		pq["compression"] = f.compression
	}
	if fl.Changed("parquetRowGroupRows") {
		pq["rowGroupRows"] = f.rowGroupRows
	}
	if fl.Changed("parquetFullDocument") {
		pq["fullDocument"] = f.fullDocument
	}
	if len(pq) > 0 {
		o["parquet"] = pq
	}
	if len(o) == 0 {
		return nil
	}
	return o
}

// createExportWithOptions posts a create-export body carrying
// snapexOptions, which the Atlas SDK's request model cannot hold, through
// the SDK client's own authenticated HTTP client; the answer is decoded
// into the SDK's job model like any other.
func createExportWithOptions(c *call, cluster string, req *admin.DiskBackupExportJobRequest, opts map[string]any) (*admin.DiskBackupExportJob, error) {
	cfg := c.api.GetConfig()
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	m["snapexOptions"] = opts
	if body, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	base := "https://cloud.mongodb.com"
	if len(cfg.Servers) > 0 {
		base = cfg.Servers[0].URL
	}
	u := base + "/api/atlas/v2/groups/" + url.PathEscape(c.groupID) + "/clusters/" + url.PathEscape(cluster) + "/backup/exports"
	hr, err := http.NewRequestWithContext(c.ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("create export job: %w", err)
	}
	const media = "application/vnd.atlas.2023-01-01+json"
	hr.Header.Set("Content-Type", media)
	hr.Header.Set("Accept", media)
	hr.Header.Set("User-Agent", cfg.UserAgent)
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		return nil, apiError(c.profile, "create export job", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("create export job: read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var apiErr admin.ApiError
		if json.Unmarshal(raw, &apiErr) == nil && apiErr.GetErrorCode() != "" {
			return nil, fmt.Errorf("create export job: %s (HTTP %d, %s)", apiErr.GetDetail(), apiErr.GetError(), apiErr.GetErrorCode())
		}
		return nil, fmt.Errorf("create export job: HTTP %d: %s", resp.StatusCode, raw)
	}
	var job admin.DiskBackupExportJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return nil, fmt.Errorf("create export job: decode answer: %w", err)
	}
	return &job, nil
}
