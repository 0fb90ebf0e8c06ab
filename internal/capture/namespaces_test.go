package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/snapex/snapex/internal/snapshot"
)

// The listCollections entries below are shaped as MongoDB 7.0 returns them
// for the namespace kinds FerretDB cannot create (views, timeseries).

var testUUID = bson.Binary{Subtype: bson.TypeBinaryUUID, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}}

func viewEntry(t testing.TB) bson.Raw {
	return marshal(t, bson.D{
		{Key: "name", Value: "adults"},
		{Key: "type", Value: "view"},
		{Key: "options", Value: bson.D{
			{Key: "viewOn", Value: "people"},
			{Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "age", Value: bson.D{{Key: "$gte", Value: int32(18)}}}}}}}},
		}},
		{Key: "info", Value: bson.D{{Key: "readOnly", Value: true}}},
	})
}

func timeseriesEntries(t testing.TB) (ts, buckets bson.Raw) {
	tsOpts := bson.D{{Key: "timeField", Value: "t"}, {Key: "metaField", Value: "m"}, {Key: "granularity", Value: "seconds"}, {Key: "bucketMaxSpanSeconds", Value: int32(3600)}}
	ts = marshal(t, bson.D{
		{Key: "name", Value: "weather"},
		{Key: "type", Value: "timeseries"},
		{Key: "options", Value: bson.D{{Key: "timeseries", Value: tsOpts}}},
		{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}}},
	})
	buckets = marshal(t, bson.D{
		{Key: "name", Value: "system.buckets.weather"},
		{Key: "type", Value: "collection"},
		{Key: "options", Value: bson.D{{Key: "validator", Value: bson.D{}}, {Key: "clusteredIndex", Value: true}, {Key: "timeseries", Value: tsOpts}}},
		{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}, {Key: "uuid", Value: testUUID}}},
	})
	return ts, buckets
}

func TestParseCollection(t *testing.T) {
	ts, buckets := timeseriesEntries(t)
	plain := marshal(t, bson.D{{Key: "name", Value: "people"}, {Key: "type", Value: "collection"},
		{Key: "options", Value: bson.D{{Key: "capped", Value: true}, {Key: "size", Value: int64(4096)}}},
		{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}, {Key: "uuid", Value: testUUID}}},
		{Key: "idIndex", Value: bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}}})
	noType := marshal(t, bson.D{{Key: "name", Value: "old"}, {Key: "options", Value: bson.D{}}})
	named := func(n string) bson.Raw {
		return marshal(t, bson.D{{Key: "name", Value: n}, {Key: "type", Value: "collection"}})
	}
	all := map[string]bool{"weather": true, "system.buckets.weather": true}

	cases := []struct {
		name     string
		db       string
		info     bson.Raw
		names    map[string]bool
		config   bool
		wantType snapshot.CollectionType
		source   string
		rawData  bool
		skip     bool
	}{
		{name: "collection", db: "app", info: plain, wantType: snapshot.TypeCollection, source: "people"},
		{name: "no type (old servers)", db: "app", info: noType, wantType: snapshot.TypeCollection, source: "old"},
		{name: "view", db: "app", info: viewEntry(t), wantType: snapshot.TypeView},
		{name: "timeseries", db: "app", info: ts, names: all, wantType: snapshot.TypeTimeseries, source: "system.buckets.weather"},
		{name: "timeseries without buckets namespace", db: "app", info: ts, names: map[string]bool{"weather": true}, wantType: snapshot.TypeTimeseries, source: "weather", rawData: true},
		{name: "buckets", db: "app", info: buckets, skip: true},
		{name: "system.views", db: "app", info: named("system.views"), skip: true},
		{name: "system.profile", db: "app", info: named("system.profile"), skip: true},
		{name: "system.js", db: "app", info: named("system.js"), wantType: snapshot.TypeCollection, source: "system.js"},
		{name: "config chunks", db: "config", info: named("chunks"), config: true, wantType: snapshot.TypeCollection, source: "chunks"},
		{name: "config cache", db: "config", info: named("cache.chunks.app.users"), config: true, skip: true},
		{name: "config transactions", db: "config", info: named("transactions"), config: true, skip: true},
		{name: "transactions elsewhere", db: "app", info: named("transactions"), config: true, wantType: snapshot.TypeCollection, source: "transactions"},
		{name: "unknown kind", db: "app", info: marshal(t, bson.D{{Key: "name", Value: "q"}, {Key: "type", Value: "queue"}}), skip: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, skip, err := parseCollection(tc.db, tc.info, tc.names, tc.config)
			if err != nil {
				t.Fatal(err)
			}
			if (skip != "") != tc.skip {
				t.Fatalf("skip %q, want skipped=%v", skip, tc.skip)
			}
			if tc.skip {
				return
			}
			if got.md.Type != tc.wantType || got.source != tc.source || got.rawData != tc.rawData || got.db != tc.db {
				t.Errorf("task %+v, want type %q source %q rawData %v", got, tc.wantType, tc.source, tc.rawData)
			}
			if opts, err := tc.info.LookupErr("options"); err == nil && len(opts.Document()) > 5 && !bytes.Equal(got.md.Options, opts.Document()) {
				t.Errorf("options %s, want %s", got.md.Options, opts.Document())
			}
			if _, err := tc.info.LookupErr("info", "uuid"); err == nil && got.md.UUID != "000102030405060708090a0b0c0d0e0f" {
				t.Errorf("uuid %q", got.md.UUID)
			}
		})
	}

	for _, bad := range []bson.Raw{
		marshal(t, bson.D{{Key: "type", Value: "collection"}}),
		marshal(t, bson.D{{Key: "name", Value: "x"}, {Key: "options", Value: "nope"}}),
		marshal(t, bson.D{{Key: "name", Value: "x"}, {Key: "info", Value: bson.D{{Key: "uuid", Value: "nope"}}}}),
	} {
		if _, _, err := parseCollection("app", bad, nil, false); err == nil {
			t.Errorf("parseCollection(%s) accepted", bad)
		}
	}
}

// TestCaptureView writes a view (as MongoDB lists it) through the capture
// path: metadata with its viewOn and pipeline, no data file, as mongodump
// writes it. A view needs no server round trip.
func TestCaptureView(t *testing.T) {
	ctx := context.Background()
	st := newStorage(t)
	w, err := snapshot.NewWriter(ctx, st, snapshot.Manifest{ID: "views"})
	if err != nil {
		t.Fatal(err)
	}
	tk, skip, err := parseCollection("app", viewEntry(t), nil, false)
	if err != nil || skip != "" {
		t.Fatal(err, skip)
	}
	r := &replicaSet{name: "rs0", log: slog.New(slog.DiscardHandler)}
	if err := r.copyOnce(ctx, w, tk, nil); err != nil {
		t.Fatal(err)
	}
	m, err := w.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := m.ReplicaSets[0].Collection("app", "adults")
	if !ok || c.Type != snapshot.TypeView || c.DataFile != "" || c.DocumentCount != 0 || c.IndexCount != 0 {
		t.Fatalf("view in manifest: %+v", c)
	}
	s, err := snapshot.Open(ctx, st, "views")
	if err != nil {
		t.Fatal(err)
	}
	md, err := s.ReadMetadata(ctx, "rs0", "app", "adults")
	if err != nil {
		t.Fatal(err)
	}
	if md.Type != snapshot.TypeView || md.Options.Lookup("viewOn").StringValue() != "people" || len(md.Indexes) != 0 {
		t.Errorf("view metadata %+v", md)
	}
	want := `{"options":{"viewOn":"people","pipeline":[{"$match":{"age":{"$gte":{"$numberInt":"18"}}}}]},"indexes":[],"collectionName":"adults","type":"view"}`
	if got, _ := md.MarshalMongodump(); string(got) != want {
		t.Errorf("metadata file\n%s\nwant (mongodump's)\n%s", got, want)
	}
}

func TestCombine(t *testing.T) {
	ts := func(t, i uint32) bson.Timestamp { return bson.Timestamp{T: t, I: i} }
	pit := func(at bson.Timestamp) rsResult {
		return rsResult{guarantee: snapshot.GuaranteePointInTime, at: at}
	}
	pitOplog := func(at, last bson.Timestamp) rsResult {
		r := pit(at)
		r.oplog, r.start, r.end = true, at, last
		return r
	}
	oplog := func(start, end bson.Timestamp) rsResult {
		return rsResult{guarantee: snapshot.GuaranteeOplog, oplog: true, start: start, end: end}
	}
	none := rsResult{guarantee: snapshot.GuaranteeNone}
	cases := []struct {
		name string
		in   []rsResult
		want string
	}{
		{"nothing", nil, "none"},
		{"one pit", []rsResult{pit(ts(10, 1))}, "pointInTime@10.1"},
		{"shards at one time", []rsResult{pit(ts(10, 1)), pitOplog(ts(10, 1), ts(12, 0))}, "pointInTime@10.1"},
		{"shards at different times", []rsResult{pitOplog(ts(10, 1), ts(11, 0)), pitOplog(ts(10, 2), ts(13, 0))}, "oplog@10.1-13.0"},
		{"pit without oplog and another time", []rsResult{pit(ts(10, 1)), pitOplog(ts(10, 2), ts(13, 0))}, "none"},
		{"one oplog", []rsResult{oplog(ts(5, 0), ts(9, 3))}, "oplog@5.0-9.3"},
		{"pit and oplog", []rsResult{pitOplog(ts(10, 1), ts(10, 1)), oplog(ts(5, 0), ts(9, 3))}, "oplog@5.0-10.1"},
		{"one none", []rsResult{oplog(ts(5, 0), ts(9, 3)), none}, "none"},
		{"rolled over", []rsResult{{guarantee: snapshot.GuaranteeNone}}, "none"},
	}
	for _, tc := range cases {
		c := combine(tc.in)
		got := string(c.Guarantee)
		switch c.Guarantee {
		case snapshot.GuaranteePointInTime:
			got += fmt.Sprintf("@%d.%d", c.ClusterTime.T, c.ClusterTime.I)
			if c.OplogStart != nil || c.OplogEnd != nil {
				got += " with oplog times"
			}
		case snapshot.GuaranteeOplog:
			got += fmt.Sprintf("@%d.%d-%d.%d", c.OplogStart.T, c.OplogStart.I, c.OplogEnd.T, c.OplogEnd.I)
			if c.ClusterTime != nil {
				got += " with cluster time"
			}
		default:
			if c.ClusterTime != nil || c.OplogStart != nil || c.OplogEnd != nil {
				got += " with times"
			}
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestIsSnapshotError(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{mongo.CommandError{Code: 239, Name: "SnapshotTooOld", Message: "Read timestamp Timestamp(1, 1) is older than the oldest available timestamp."}, true},
		{mongo.CommandError{Code: 246, Name: "SnapshotUnavailable", Message: "Unable to read from a snapshot due to pending collection catalog changes"}, true},
		{mongo.CommandError{Code: 72, Name: "InvalidOptions", Message: "readConcern level snapshot is only valid in multi-statement transactions"}, true},
		{mongo.CommandError{Code: 148, Name: "ReadConcernMajorityNotEnabled"}, true},
		{fmt.Errorf("find: %w", mongo.CommandError{Code: 239}), true},
		{mongo.CommandError{Code: 9, Name: "FailedToParse", Message: "unrecognized readConcern field: atClusterTime"}, true},
		{mongo.CommandError{Code: 9, Name: "FailedToParse", Message: "unknown field \"hint\""}, false},
		{mongo.CommandError{Code: 13, Name: "Unauthorized", Message: "not authorized on app to execute command"}, false},
		{mongo.CommandError{Code: 26, Name: "NamespaceNotFound"}, false},
		{context.Canceled, false},
		{errors.New("connection reset"), false},
	}
	for _, tc := range cases {
		if got := isSnapshotError(tc.err); got != tc.want {
			t.Errorf("isSnapshotError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !isCode(fmt.Errorf("x: %w", mongo.CommandError{Code: 26}), codeNamespaceNotFound) || isCode(errors.New("x"), 26) {
		t.Error("isCode")
	}
}

func TestHelloTime(t *testing.T) {
	rs := marshal(t, bson.D{{Key: "setName", Value: "rs0"}, {Key: "$clusterTime", Value: bson.D{{Key: "clusterTime", Value: bson.Timestamp{T: 20, I: 2}}}}, {Key: "operationTime", Value: bson.Timestamp{T: 19, I: 5}}})
	if got := helloTime(rs); got == nil || *got != (bson.Timestamp{T: 19, I: 5}) {
		t.Errorf("operationTime: %v", got)
	}
	onlyCluster := marshal(t, bson.D{{Key: "$clusterTime", Value: bson.D{{Key: "clusterTime", Value: bson.Timestamp{T: 20, I: 2}}}}})
	if got := helloTime(onlyCluster); got == nil || *got != (bson.Timestamp{T: 20, I: 2}) {
		t.Errorf("$clusterTime: %v", got)
	}
	if got := helloTime(marshal(t, bson.D{{Key: "isWritablePrimary", Value: true}})); got != nil {
		t.Errorf("standalone: %v", got)
	}
	sets := []*replicaSet{
		{setName: "a", opTime: &bson.Timestamp{T: 30, I: 1}},
		{setName: "b", opTime: &bson.Timestamp{T: 29, I: 9}},
		{setName: "", opTime: &bson.Timestamp{T: 1, I: 1}}, // not a replica set: ignored
		{setName: "c"},
	}
	if at := commonClusterTime(sets); at == nil || *at != (bson.Timestamp{T: 29, I: 9}) {
		t.Errorf("common cluster time %v", at)
	}
	if at := commonClusterTime(sets[2:]); at != nil {
		t.Errorf("common cluster time without replica sets %v", at)
	}
}
