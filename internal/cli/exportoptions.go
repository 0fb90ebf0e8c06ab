package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// exportOptionFlags are the flags of snapex's export extensions
// (snapexOptions): jobs create's --format, …, and, with prefix "export",
// schedule update's --exportFormat, ….
type exportOptionFlags struct {
	prefix       string
	format       string
	include      []string
	exclude      []string
	manifest     bool
	compression  string
	rowGroupRows int
	fullDocument bool
}

// name is the flag's name under the prefix (format → exportFormat).
func (f *exportOptionFlags) name(n string) string {
	if f.prefix == "" {
		return n
	}
	return f.prefix + strings.ToUpper(n[:1]) + n[1:]
}

func (f *exportOptionFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.format, f.name("format"), "", "snapex extension: output format, ejson (Atlas's gzipped Extended JSON, the default) or parquet")
	fl.StringArrayVar(&f.include, f.name("nsInclude"), nil, "snapex extension: export only namespaces matching this mongodump pattern (db.coll, * wildcard; repeatable)")
	fl.StringArrayVar(&f.exclude, f.name("nsExclude"), nil, "snapex extension: skip namespaces matching this mongodump pattern (repeatable)")
	fl.BoolVar(&f.manifest, f.name("manifest"), false, "snapex extension: write manifest.json (sizes, counts, SHA-256) before .complete; always on for parquet")
	fl.StringVar(&f.compression, f.name("parquetCompression"), "", "snapex extension: Parquet compression, zstd (default), snappy or gzip")
	fl.IntVar(&f.rowGroupRows, f.name("parquetRowGroupRows"), 0, "snapex extension: most rows per Parquet row group (default 100000)")
	fl.BoolVar(&f.fullDocument, f.name("parquetFullDocument"), false, "snapex extension: add a _document column with each whole document as Extended JSON")
}

// options returns the snapexOptions object the flags describe, or nil
// when none was given (the request is then exactly Atlas's).
func (f *exportOptionFlags) options(cmd *cobra.Command) map[string]any {
	fl := cmd.Flags()
	o := map[string]any{}
	if fl.Changed(f.name("format")) {
		o["format"] = f.format
	}
	if fl.Changed(f.name("nsInclude")) {
		o["nsInclude"] = f.include
	}
	if fl.Changed(f.name("nsExclude")) {
		o["nsExclude"] = f.exclude
	}
	if fl.Changed(f.name("manifest")) {
		o["manifest"] = f.manifest
	}
	pq := map[string]any{}
	if fl.Changed(f.name("parquetCompression")) {
		pq["compression"] = f.compression
	}
	if fl.Changed(f.name("parquetRowGroupRows")) {
		pq["rowGroupRows"] = f.rowGroupRows
	}
	if fl.Changed(f.name("parquetFullDocument")) {
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
// snapexOptions, which the Atlas SDK's request model cannot hold; the
// answer is decoded into the SDK's job model like any other.
func createExportWithOptions(c *call, cluster string, req *admin.DiskBackupExportJobRequest, opts map[string]any) (*admin.DiskBackupExportJob, error) {
	var job admin.DiskBackupExportJob
	path := "/clusters/" + url.PathEscape(cluster) + "/backup/exports"
	err := sendExtended(c, http.MethodPost, path, "2023-01-01", req, func(m map[string]any) { m["snapexOptions"] = opts }, &job)
	if err != nil {
		return nil, fmt.Errorf("create export job: %w", err)
	}
	return &job, nil
}

// sendExtended sends an SDK request model with snapex's extensions added
// by extend (the SDK's models cannot hold them) through the SDK client's
// own authenticated HTTP client, to path under the project, and decodes
// the answer into out.
func sendExtended(c *call, method, path, version string, req any, extend func(map[string]any), out any) error {
	cfg := c.api.GetConfig()
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	extend(m)
	if body, err = json.Marshal(m); err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	base := "https://cloud.mongodb.com"
	if len(cfg.Servers) > 0 {
		base = cfg.Servers[0].URL
	}
	u := base + "/api/atlas/v2/groups/" + url.PathEscape(c.groupID) + path
	hr, err := http.NewRequestWithContext(c.ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	media := "application/vnd.atlas." + version + "+json"
	hr.Header.Set("Content-Type", media)
	hr.Header.Set("Accept", media)
	hr.Header.Set("User-Agent", cfg.UserAgent)
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		return apiError(c.profile, strings.ToLower(method)+" "+path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var apiErr admin.ApiError
		if json.Unmarshal(raw, &apiErr) == nil && apiErr.GetErrorCode() != "" {
			return fmt.Errorf("%s (HTTP %d, %s)", apiErr.GetDetail(), apiErr.GetError(), apiErr.GetErrorCode())
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
