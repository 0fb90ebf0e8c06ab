package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/stores"
	"github.com/spf13/cobra"
)

// sourceFlags say how restore and verify open an export: a bucket URL
// (s3://, azure://, gs://, file://) or a plain directory, with an access
// role's credentials from a snapex config or the store's default chain.
type sourceFlags struct {
	cfgPath, projectID, roleID string
}

// addFlags registers --config, --projectId and --roleId on cmd.
func (f *sourceFlags) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.cfgPath, "config", "", "snapex config whose access role (--projectId, --roleId) supplies the source's credentials")
	fl.StringVar(&f.projectID, "projectId", "", "project of the access role (with --config)")
	fl.StringVar(&f.roleID, "roleId", "", "access role whose credentials open the source (with --config)")
}

// credentials returns the access role's credentials the flags name, or
// none (the store's default chain), and the opener configured by the
// config when one is given.
func (f sourceFlags) credentials() (stores.Credentials, *stores.Opener, error) {
	if f.cfgPath == "" {
		if f.roleID != "" || f.projectID != "" {
			return stores.Credentials{}, nil, errors.New("--roleId and --projectId need --config")
		}
		return stores.Credentials{}, &stores.Opener{}, nil
	}
	cfg, err := config.Load(f.cfgPath)
	if err != nil {
		return stores.Credentials{}, nil, err
	}
	if f.roleID == "" {
		return stores.Credentials{}, newOpener(cfg), nil
	}
	role, ok := cfg.Catalog().AccessRole(f.projectID, f.roleID)
	if !ok {
		return stores.Credentials{}, nil, fmt.Errorf("no access role %s in project %s of %s", f.roleID, f.projectID, f.cfgPath)
	}
	return stores.Credentials{AWS: role.AWS, Azure: role.Azure, GCP: role.GCP, Local: role.Local}, newOpener(cfg), nil
}

// open opens src through the one store opener; a plain path (no scheme)
// is a local directory holding the export.
func (f sourceFlags) open(ctx context.Context, src string) (blob.Bucket, string, error) {
	if !strings.Contains(src, "://") {
		return restore.OpenLocal(ctx, src)
	}
	creds, opener, err := f.credentials()
	if err != nil {
		return nil, "", err
	}
	return opener.OpenURL(ctx, src, creds)
}
