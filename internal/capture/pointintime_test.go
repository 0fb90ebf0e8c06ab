package capture

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/testenv"
)

// TestPointInTimeReadPath drives the point-in-time path against FerretDB.
// FerretDB is no replica set member, so the test gives the connected
// replica set the cluster time a MongoDB member would have reported; the
// reads then carry readConcern {level: "snapshot", atClusterTime}, which
// FerretDB parses and accepts without honouring. This checks the commands'
// form and the bookkeeping (not the isolation, which only MongoDB
// provides), then the fallback: without an oplog (FerretDB has none) a
// refused snapshot read leaves no guarantee.
func TestPointInTimeReadPath(t *testing.T) {
	uri := testenv.FerretDB(t)
	client := connectClient(t, uri)
	want := []namespace{{"app", "a"}, {"app", "b"}}
	for _, ns := range want {
		var docs []any
		for i := range 300 {
			docs = append(docs, ferretTypedDoc(i))
		}
		insertAll(t, client.Database(ns.db).Collection(ns.coll), docs)
	}
	ctx := context.Background()
	opts := Options{SnapshotID: "pit", ReplicaSets: []Source{{Name: "rs0", URI: uri}}, Storage: newStorage(t), BatchSize: 50, Logger: testLogger(t)}
	if err := opts.normalize(); err != nil {
		t.Fatal(err)
	}
	rs, err := connect(ctx, opts.ReplicaSets[0], &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.disconnect(ctx)
	if rs.setName != "" || rs.opTime != nil {
		t.Fatalf("FerretDB reported setName %q and cluster time %v; the documentation says it has neither", rs.setName, rs.opTime)
	}
	rs.setName, rs.opTime = "rs0", &bson.Timestamp{T: 1_700_000_000, I: 3}
	rs.start(commonClusterTime([]*replicaSet{rs}))

	w, err := snapshot.NewWriter(ctx, opts.Storage, snapshot.Manifest{ID: "pit"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddReplicaSet("rs0"); err != nil {
		t.Fatal(err)
	}
	res, err := rs.capture(ctx, w, make(chan struct{}, 2))
	if err != nil {
		t.Fatal(err)
	}
	if res.guarantee != snapshot.GuaranteePointInTime || res.at != *rs.opTime || res.oplog {
		t.Errorf("result %+v, want pointInTime at %v without oplog", res, rs.opTime)
	}
	cons := combine([]rsResult{res})
	if cons.Guarantee != snapshot.GuaranteePointInTime || cons.ClusterTime == nil || *cons.ClusterTime != (snapshot.Timestamp{T: 1_700_000_000, I: 3}) {
		t.Errorf("consistency %+v", cons)
	}
	w.SetConsistency(cons)
	m, err := w.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Open(ctx, opts.Storage, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Manifest.Consistency; got.Guarantee != snapshot.GuaranteePointInTime || got.ClusterTime.T != 1_700_000_000 {
		t.Errorf("stored consistency %+v", got)
	}
	for _, ns := range want {
		compareDocs(t, ns.String(), snapshotDocs(t, s, "rs0", ns.db, ns.coll), naturalDocs(t, client.Database(ns.db).Collection(ns.coll)))
	}

	// A refused snapshot read: FerretDB lists no local.oplog.rs, so there is
	// no window to fall back to.
	if err := rs.fallBack(ctx, task{db: "app", md: snapshot.Metadata{CollectionName: "a"}}, errors.New("SnapshotTooOld")); err != nil {
		t.Fatal(err)
	}
	if pit, _ := rs.readMode(); pit || rs.oplogStart != nil || !rs.oplogKnown || rs.hasOplog {
		t.Errorf("after fallback: pit %v oplogStart %v oplogKnown %v hasOplog %v", pit, rs.oplogStart, rs.oplogKnown, rs.hasOplog)
	}
	res, err = rs.finish(ctx)
	if err != nil || res.guarantee != snapshot.GuaranteeNone || res.oplog {
		t.Errorf("after fallback: %+v %v", res, err)
	}
}
