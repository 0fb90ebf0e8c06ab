package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIBackupSchedule drives `snapex backups schedule describe|update`
// against a real server: the default schedule is described in table and
// JSON form, an update sends only the settings given (the policy items
// stay when only the reference time changes), --backupPolicy replaces the
// items, and a value the API refuses exits non-zero with its error code.
func TestCLIBackupSchedule(t *testing.T) {
	dir := t.TempDir()
	writeSecrets(t, dir, map[string]string{"key": privKey, "sa": saSecret})
	srv := startServer(t, dir, apiConfig)
	profiles := filepath.Join(t.TempDir(), "config.toml")
	profile := "[local]\npublic_api_key = \"" + pubKey + "\"\nprivate_api_key = \"" + privKey + "\"\nproject_id = \"" + groupID +
		"\"\nops_manager_url = \"" + srv.url + "\"\n"
	if err := os.WriteFile(profiles, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) cliRun {
		return runCLI(t, []string{"SNAPEX_CLI_CONFIG=" + profiles}, append([]string{"backups", "schedule"}, append(args, "--profile", "local")...)...)
	}
	type item struct {
		ID                string `json:"id"`
		FrequencyType     string `json:"frequencyType"`
		FrequencyInterval int    `json:"frequencyInterval"`
		RetentionUnit     string `json:"retentionUnit"`
		RetentionValue    int    `json:"retentionValue"`
	}
	type schedule struct {
		ClusterName           string `json:"clusterName"`
		ReferenceHourOfDay    int    `json:"referenceHourOfDay"`
		ReferenceMinuteOfHour int    `json:"referenceMinuteOfHour"`
		Policies              []struct {
			ID          string `json:"id"`
			PolicyItems []item `json:"policyItems"`
		} `json:"policies"`
	}
	decode := func(out string) schedule {
		t.Helper()
		var s schedule
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("schedule JSON: %v\n%s", err, out)
		}
		return s
	}

	table := cli("describe", "Cluster0").ok(t, "describe")
	for _, want := range []string{"CLUSTER NAME", "Cluster0", "POLICY ITEM ID", "hourly", "monthly", "12 months"} {
		if !strings.Contains(table, want) {
			t.Fatalf("describe table lacks %q:\n%s", want, table)
		}
	}
	def := decode(cli("describe", "Cluster0", "-o", "json").ok(t, "describe json"))
	if def.ClusterName != "Cluster0" || len(def.Policies) != 1 || len(def.Policies[0].PolicyItems) != 4 {
		t.Fatalf("default schedule: %+v", def)
	}

	got := decode(cli("update", "--clusterName", "Cluster0", "--referenceHourOfDay", "3", "--referenceMinuteOfHour", "30", "-o", "json").ok(t, "update time"))
	if got.ReferenceHourOfDay != 3 || got.ReferenceMinuteOfHour != 30 || len(got.Policies[0].PolicyItems) != 4 {
		t.Fatalf("after changing the reference time: %+v", got)
	}

	daily := def.Policies[0].PolicyItems[1]
	got = decode(cli("update", "--clusterName", "Cluster0", "-o", "json",
		"--backupPolicy", def.Policies[0].ID+","+daily.ID+",daily,1,days,3",
		"--backupPolicy", def.Policies[0].ID+",,weekly,7,weeks,2").ok(t, "update policy"))
	items := got.Policies[0].PolicyItems
	if len(items) != 2 || items[0].ID != daily.ID || items[0].RetentionValue != 3 || items[1].FrequencyType != "weekly" || items[1].ID == "" {
		t.Fatalf("after replacing the items: %+v", items)
	}

	r := cli("update", "--clusterName", "Cluster0", "--backupPolicy", ",,hourly,5,days,1")
	if r.code == 0 || !strings.Contains(r.stderr, "INVALID_ATTRIBUTE") {
		t.Fatalf("an hourly interval of 5: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli("update", "--clusterName", "Cluster0", "--backupPolicy", "a,b,daily"); r.code == 0 || !strings.Contains(r.stderr, "policyId,policyItemId") {
		t.Fatalf("a malformed --backupPolicy: exit %d, stderr %q", r.code, r.stderr)
	}
}
