package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/ejson"
	"github.com/snapex/snapex/internal/snapshot"
)

// Object names under a job's prefix, exactly as Atlas lays them out
// (behaviour notes §2.2).

// dataKey is <prefix>/<db>/<coll>/<replicaSet>.<n>.json.gz.
func dataKey(prefix, db, coll, rs string, n int) string {
	return prefix + "/" + db + "/" + coll + "/" + rs + "." + strconv.Itoa(n) + ".json.gz"
}

// metadataKey is <prefix>/<db>/<coll>/metadata.json.
func metadataKey(prefix, db, coll string) string {
	return prefix + "/" + db + "/" + coll + "/metadata.json"
}

// completeKey is <prefix>/.complete, written last.
func completeKey(prefix string) string { return prefix + "/.complete" }

// metadataJSON renders a collection's metadata.json: collectionName,
// indexes in getIndexes() form, options and uuid in canonical Extended
// JSON, and type for time series (views are never exported).
func metadataJSON(md *snapshot.Metadata, coll string) ([]byte, error) {
	var b bytes.Buffer
	name, _ := json.Marshal(coll)
	b.WriteString(`{"collectionName":`)
	b.Write(name)
	b.WriteString(`,"indexes":[`)
	buf := make([]byte, 0, 512)
	for i, ix := range md.Indexes {
		if i > 0 {
			b.WriteByte(',')
		}
		var err error
		if buf, err = ejson.AppendDocument(buf[:0], ix); err != nil {
			return nil, fmt.Errorf("index %d of %s: %w", i, coll, err)
		}
		b.Write(buf)
	}
	b.WriteString(`],"options":`)
	if len(md.Options) == 0 {
		b.WriteString("{}")
	} else {
		var err error
		if buf, err = ejson.AppendDocument(buf[:0], md.Options); err != nil {
			return nil, fmt.Errorf("options of %s: %w", coll, err)
		}
		b.Write(buf)
	}
	if md.EffectiveType() == snapshot.TypeTimeseries {
		b.WriteString(`,"type":"timeseries"`)
	}
	if md.UUID != "" {
		b.WriteString(`,"uuid":`)
		u, _ := json.Marshal(md.UUID)
		b.Write(u)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// completeDoc is the .complete object (behaviour notes §2.2).
type completeDoc struct {
	OrgID                  string        `json:"orgId"`
	OrgName                string        `json:"orgName"`
	GroupID                string        `json:"groupId"`
	GroupName              string        `json:"groupName"`
	ClusterUniqueID        string        `json:"clusterUniqueId"`
	ClusterName            string        `json:"clusterName"`
	SnapshotInitiationDate string        `json:"snapshotInitiationDate"`
	TotalFiles             int           `json:"totalFiles"`
	Labels                 []atlas.Label `json:"labels"`
	CustomData             []atlas.Label `json:"customData"`
	// Extensions of a job with snapexOptions; absent from a plain job's.
	*completeExtension
}

// completeJSON renders .complete; totalFiles counts every data file and
// metadata.json uploaded under the prefix.
func completeJSON(org atlas.Organization, project atlas.Project, cluster atlas.Cluster, snapCreated time.Time, job *atlas.ExportJob, totalFiles int, ext *completeExtension) ([]byte, error) {
	d := completeDoc{
		OrgID: org.ID, OrgName: org.Name, GroupID: project.ID, GroupName: project.Name,
		ClusterUniqueID: cluster.ID(), ClusterName: cluster.Name,
		SnapshotInitiationDate: snapCreated.UTC().Format("2006-01-02T15:04:05.000Z"),
		TotalFiles:             totalFiles, Labels: cluster.Labels, CustomData: job.CustomData,
		completeExtension: ext,
	}
	if d.Labels == nil {
		d.Labels = []atlas.Label{}
	}
	if d.CustomData == nil {
		d.CustomData = []atlas.Label{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode .complete: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
