package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// DefaultProfile is the profile used without --profile, as in the Atlas CLI.
const DefaultProfile = "default"

// Profile is one named set of connection settings. The TOML keys are the
// Atlas CLI's, so a profile can be copied between the two tools.
type Profile struct {
	// Name is the profile's table name in the file.
	Name string `toml:"-"`
	// PublicAPIKey and PrivateAPIKey authenticate with HTTP Digest.
	PublicAPIKey  string `toml:"public_api_key,omitempty"`
	PrivateAPIKey string `toml:"private_api_key,omitempty"`
	// ClientID and ClientSecret authenticate as a service account (OAuth
	// client credentials); they win over an API key when both are set.
	ClientID     string `toml:"client_id,omitempty"`
	ClientSecret string `toml:"client_secret,omitempty"`
	// OrgID and ProjectID are the defaults for --orgId and --projectId.
	OrgID     string `toml:"org_id,omitempty"`
	ProjectID string `toml:"project_id,omitempty"`
	// OpsManagerURL is the API base URL; empty means Atlas itself.
	OpsManagerURL string `toml:"ops_manager_url,omitempty"`
	// Output is the default --output format.
	Output string `toml:"output,omitempty"`
}

// envOverrides maps the Atlas CLI's environment variables onto profile
// fields; a set variable wins over the file.
var envOverrides = []struct {
	name  string
	field func(*Profile) *string
}{
	{"MONGODB_ATLAS_PUBLIC_API_KEY", func(p *Profile) *string { return &p.PublicAPIKey }},
	{"MONGODB_ATLAS_PRIVATE_API_KEY", func(p *Profile) *string { return &p.PrivateAPIKey }},
	{"MONGODB_ATLAS_CLIENT_ID", func(p *Profile) *string { return &p.ClientID }},
	{"MONGODB_ATLAS_CLIENT_SECRET", func(p *Profile) *string { return &p.ClientSecret }},
	{"MONGODB_ATLAS_ORG_ID", func(p *Profile) *string { return &p.OrgID }},
	{"MONGODB_ATLAS_PROJECT_ID", func(p *Profile) *string { return &p.ProjectID }},
	{"MONGODB_ATLAS_OPS_MANAGER_URL", func(p *Profile) *string { return &p.OpsManagerURL }},
	{"MONGODB_ATLAS_OUTPUT", func(p *Profile) *string { return &p.Output }},
}

// ProfilesFile is where profiles live: $SNAPEX_CLI_CONFIG when set,
// otherwise snapex/config.toml under the user's config directory
// ($XDG_CONFIG_HOME or ~/.config on Linux).
func ProfilesFile(getenv func(string) string) (string, error) {
	if p := getenv("SNAPEX_CLI_CONFIG"); p != "" {
		return p, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("find the profiles file: %w", err)
		}
	}
	return filepath.Join(dir, "snapex", "config.toml"), nil
}

// readProfiles reads every profile in file; a missing file has none.
func readProfiles(file string) (map[string]Profile, error) {
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Profile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	profiles := map[string]Profile{}
	if err := toml.Unmarshal(raw, &profiles); err != nil {
		return nil, fmt.Errorf("profiles file %s: %w", file, err)
	}
	return profiles, nil
}

// LoadProfile returns profile name from file with the environment's
// overrides applied. The default profile may be absent (the environment
// alone can configure the CLI); a profile asked for by name may not.
func LoadProfile(file, name string, getenv func(string) string) (Profile, error) {
	profiles, err := readProfiles(file)
	if err != nil {
		return Profile{}, err
	}
	p, ok := profiles[name]
	if !ok && name != DefaultProfile {
		names := make([]string, 0, len(profiles))
		for n := range profiles {
			names = append(names, n)
		}
		slices.Sort(names)
		return Profile{}, fmt.Errorf("no profile %q in %s (profiles there: %s)", name, file, strings.Join(names, ", "))
	}
	p.Name = name
	for _, o := range envOverrides {
		if v := getenv(o.name); v != "" {
			*o.field(&p) = v
		}
	}
	return p, nil
}

// SaveProfile writes p into file under p.Name, keeping the other profiles;
// the file holds credentials, so only its owner may read it.
func SaveProfile(file string, p Profile) error {
	profiles, err := readProfiles(file)
	if err != nil {
		return err
	}
	profiles[p.Name] = p
	raw, err := toml.Marshal(profiles)
	if err != nil {
		return fmt.Errorf("encode profiles: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create profiles directory: %w", err)
	}
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return nil
}

// HasProfile reports whether file already holds a profile called name.
func HasProfile(file, name string) (bool, error) {
	profiles, err := readProfiles(file)
	if err != nil {
		return false, err
	}
	_, ok := profiles[name]
	return ok, nil
}
