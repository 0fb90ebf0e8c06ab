package e2e

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// withoutScheduling turns scheduling passes off in a test's config
// (snapshots.schedulingDisabled: true) unless the config sets scheduling
// itself. Every configured cluster has the default six-hourly backup
// schedule, so without this a test that happened to span a slot would
// meet a scheduled snapshot it did not ask for.
func withoutScheduling(t *testing.T, cfg string) string {
	t.Helper()
	if strings.Contains(cfg, "scheduleCheckSeconds") || strings.Contains(cfg, "schedulingDisabled") {
		return cfg
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(cfg), &root); err != nil {
		t.Fatalf("test config is not YAML: %v", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("test config is not a YAML mapping")
	}
	doc := root.Content[0]
	var snapshots *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "snapshots" {
			snapshots = doc.Content[i+1]
		}
	}
	if snapshots == nil {
		snapshots = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "snapshots"}, snapshots)
	}
	if snapshots.Kind != yaml.MappingNode {
		t.Fatalf("test config: snapshots is not a mapping")
	}
	snapshots.Content = append(snapshots.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "schedulingDisabled"},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	out, err := yaml.Marshal(&root)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestWithoutSchedulingKeepsTheConfig checks the harness's rewrite: it adds
// the setting to an existing or a missing snapshots block, keeps every
// other value, and leaves a config that sets scheduling alone.
func TestWithoutSchedulingKeepsTheConfig(t *testing.T) {
	for _, cfg := range []string{
		"database: snapex.db\nsnapshots: {serverSelectionTimeoutSeconds: 2, connectTimeoutSeconds: 2}\n",
		"database: snapex.db\nlisten: 127.0.0.1:0\n",
	} {
		var got struct {
			Database  string         `yaml:"database"`
			Snapshots map[string]any `yaml:"snapshots"`
		}
		if err := yaml.Unmarshal([]byte(withoutScheduling(t, cfg)), &got); err != nil {
			t.Fatal(err)
		}
		if got.Database != "snapex.db" || got.Snapshots["schedulingDisabled"] != true {
			t.Fatalf("rewrite of %q: %+v", cfg, got)
		}
		if strings.Contains(cfg, "connectTimeoutSeconds") && got.Snapshots["connectTimeoutSeconds"] != 2 {
			t.Fatalf("rewrite of %q lost a setting: %+v", cfg, got)
		}
	}
	own := "snapshots: {scheduleCheckSeconds: 1}\n"
	if withoutScheduling(t, own) != own {
		t.Fatalf("a config that sets scheduling was rewritten")
	}
}
