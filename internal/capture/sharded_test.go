package capture

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/testenv"
)

// TestTakeSharded captures two shards and a config server (three FerretDB
// servers standing in for the replica sets) into one snapshot: one tree
// per replica set, the config database only from the config server,
// without its per-node collections, and a server without a replica set
// name takes the name given in its Source.
func TestTakeSharded(t *testing.T) {
	uris := map[string]string{}
	want := map[string][]namespace{
		"shard0": {{"app", "users"}},
		"shard1": {{"app", "users"}, {"app", "x"}},
		"cfg":    {{"config", "chunks"}, {"config", "collections"}},
	}
	for _, name := range []string{"shard0", "shard1", "cfg"} {
		uri := testenv.FerretDB(t)
		uris[name] = uri
		client := connectClient(t, uri)
		for _, ns := range want[name] {
			var docs []any
			for i := range 200 {
				docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("%s-%s-%d", name, ns.coll, i)}, {Key: "i", Value: int32(i)}})
			}
			insertAll(t, client.Database(ns.db).Collection(ns.coll), docs)
		}
		// Left out everywhere: a shard's config database (routing caches),
		// the config server's per-node collections and system collections.
		for _, coll := range []string{"cache.collections", "transactions", "image_collection", "system.sessions"} {
			insertAll(t, client.Database("config").Collection(coll), []any{bson.D{{Key: "_id", Value: 1}}})
		}
	}
	st := newStorage(t)
	ctx := context.Background()
	m, err := Take(ctx, Options{
		SnapshotID:  "sharded",
		ClusterName: "Sharded0",
		Type:        snapshot.ClusterShardedCluster,
		ReplicaSets: []Source{
			{Name: "shard0", URI: uris["shard0"]},
			{Name: "shard1", URI: uris["shard1"]},
			{Name: "cfg", URI: uris["cfg"], ConfigServer: true},
		},
		Storage:     st,
		Parallelism: 2,
		Logger:      testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != snapshot.ClusterShardedCluster || m.Consistency.Guarantee != snapshot.GuaranteeNone || m.MongodVersion == "" {
		t.Errorf("manifest: type %q consistency %+v version %q", m.Type, m.Consistency, m.MongodVersion)
	}
	var names []string
	for _, rs := range m.ReplicaSets {
		names = append(names, rs.Name)
	}
	if strings.Join(names, ",") != "cfg,shard0,shard1" {
		t.Fatalf("replica sets %v", names)
	}
	s, err := snapshot.Open(ctx, st, "sharded")
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range m.ReplicaSets {
		var got []namespace
		for _, c := range rs.Collections {
			got = append(got, namespace{c.DB, c.Name})
			if !strings.HasPrefix(c.DataFile, rs.Name+"/") {
				t.Errorf("%s: %s.%s stored at %s, outside its tree", rs.Name, c.DB, c.Name, c.DataFile)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want[rs.Name]) {
			t.Errorf("%s: namespaces %v, want %v", rs.Name, got, want[rs.Name])
		}
		client := connectClient(t, uris[rs.Name])
		for _, ns := range want[rs.Name] {
			compareDocs(t, rs.Name+" "+ns.String(), snapshotDocs(t, s, rs.Name, ns.db, ns.coll),
				naturalDocs(t, client.Database(ns.db).Collection(ns.coll)))
		}
	}
}

// TestTakeUnnamedStandalone: a server that is not a replica set member
// needs a name in its Source.
func TestTakeUnnamedStandalone(t *testing.T) {
	uri := testenv.FerretDB(t)
	st := newStorage(t)
	_, err := Take(context.Background(), Options{SnapshotID: "unnamed", ReplicaSets: []Source{{URI: uri}}, Storage: st})
	if err == nil || !strings.Contains(err.Error(), "not a replica set member and no name was given") {
		t.Fatalf("error %v", err)
	}
	if objs, _ := st.List(context.Background(), ""); len(objs) != 0 {
		t.Errorf("storage after failure: %v", objs)
	}
}
