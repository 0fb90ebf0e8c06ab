package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestProfilesEnvironmentWins: a profile is read from the TOML file with
// the Atlas CLI's keys, and each MONGODB_ATLAS_* variable overrides its
// field.
func TestProfilesEnvironmentWins(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte(`[default]
public_api_key = "filepub"
private_api_key = "filepriv"
project_id = "100000000000000000000001"
ops_manager_url = "http://127.0.0.1:8080/"

[other]
client_id = "mdb_sa_id_x"
client_secret = "mdb_sa_sk_y"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProfile(file, DefaultProfile, envOf(map[string]string{
		"MONGODB_ATLAS_PRIVATE_API_KEY": "envpriv", "MONGODB_ATLAS_PROJECT_ID": "200000000000000000000002",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Name: DefaultProfile, PublicAPIKey: "filepub", PrivateAPIKey: "envpriv", ProjectID: "200000000000000000000002", OpsManagerURL: "http://127.0.0.1:8080/"}
	if p != want {
		t.Fatalf("profile %+v, want %+v", p, want)
	}
	o, err := LoadProfile(file, "other", envOf(nil))
	if err != nil || o.ClientID != "mdb_sa_id_x" || o.ClientSecret != "mdb_sa_sk_y" {
		t.Fatalf("service-account profile %+v, %v", o, err)
	}
	if _, err := LoadProfile(file, "missing", envOf(nil)); err == nil || !strings.Contains(err.Error(), `no profile "missing"`) || !strings.Contains(err.Error(), "default, other") {
		t.Fatalf("missing profile: %v", err)
	}
	// Without a file, the environment alone configures the default profile.
	p, err = LoadProfile(filepath.Join(t.TempDir(), "absent.toml"), DefaultProfile, envOf(map[string]string{"MONGODB_ATLAS_OPS_MANAGER_URL": "http://x"}))
	if err != nil || p.OpsManagerURL != "http://x" {
		t.Fatalf("env-only profile %+v, %v", p, err)
	}
}

// TestSaveProfileKeepsOthers: saving one profile keeps the rest and makes
// the file readable by its owner only.
func TestSaveProfileKeepsOthers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "snapex", "config.toml")
	if err := SaveProfile(file, Profile{Name: "default", PublicAPIKey: "a", PrivateAPIKey: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := SaveProfile(file, Profile{Name: "local", ProjectID: "p"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"default": "a", "local": ""} {
		p, err := LoadProfile(file, name, envOf(nil))
		if err != nil || p.PublicAPIKey != want {
			t.Fatalf("profile %s after two saves: %+v, %v", name, p, err)
		}
	}
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("profiles file mode: %v, %v", info.Mode().Perm(), err)
	}
}

// TestClientNeedsWholeCredentials: half a key or no credentials at all
// is refused before any request, naming what to set.
func TestClientNeedsWholeCredentials(t *testing.T) {
	for _, c := range []struct {
		p    Profile
		want string
	}{
		{Profile{Name: "x", PublicAPIKey: "a"}, "only half an API key"},
		{Profile{Name: "x", ClientID: "a"}, "only half a service account"},
		{Profile{Name: "x"}, "has no credentials"},
	} {
		if _, err := newClient(t.Context(), c.p, "test"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("newClient(%+v) = %v, want %q", c.p, err, c.want)
		}
	}
}
