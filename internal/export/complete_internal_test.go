package export

import (
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/manifest"
)

// TestCompleteKeepsAtlasFields: a plain job's .complete has exactly
// Atlas's fields in Atlas's order; a job with snapexOptions adds its
// fields after them.
func TestCompleteKeepsAtlasFields(t *testing.T) {
	org := atlas.Organization{ID: "o", Name: "Org"}
	project := atlas.Project{ID: "g", Name: "P"}
	cluster := atlas.Cluster{GroupID: "g", Name: "C"}
	at := time.Date(2026, 8, 10, 3, 27, 8, 321e6, time.UTC)
	job := &atlas.ExportJob{}
	plain, err := completeJSON(org, project, cluster, at, job, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"orgId":"o","orgName":"Org","groupId":"g","groupName":"P","clusterUniqueId":"` + cluster.ID() +
		`","clusterName":"C","snapshotInitiationDate":"2026-08-10T03:27:08.321Z","totalFiles":3,"labels":[],"customData":[]}`
	if string(plain) != want {
		t.Fatalf("plain .complete\n got %s\nwant %s", plain, want)
	}
	ext := &completeExtension{SnapexOptions: &atlas.ExportOptions{Format: "parquet"}, SnapexFiles: []string{"a/b/rs.0.parquet"},
		SnapexManifest: &manifest.Reference{Key: manifest.Name, SHA256: "ab"}}
	with, err := completeJSON(org, project, cluster, at, job, 3, ext)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(with), strings.TrimSuffix(want, "}")+`,"snapexOptions":{"format":"parquet"`) ||
		!strings.Contains(string(with), `"snapexFiles":["a/b/rs.0.parquet"],"snapexManifest":{"key":"manifest.json","sha256":"ab"}}`) {
		t.Fatalf(".complete with options: %s", with)
	}
}
