// Package capture reads live MongoDB deployments into snapshots
// (internal/snapshot) with the official driver.
//
// Take connects to every replica set of Options.ReplicaSets (one for a
// replica set, every shard plus the config server for a sharded cluster),
// and writes each into its own tree of one snapshot, in mongodump's layout.
//
// # What is read
//
// For each replica set:
//
//   - hello (setName, cluster time) and buildInfo (the manifest's
//     mongodVersion: that of the first non-config replica set; differing
//     versions are logged). A mongos is refused: give the shards and the
//     config server instead.
//   - listDatabases (nameOnly), skipping admin, local and config. On a
//     config server (Source.ConfigServer) the config database, which holds
//     the cluster's sharding metadata, is captured except its per-node
//     collections (cache.*, transactions, image_collection). Users and roles
//     (admin.system.users, admin.system.roles) are therefore not captured.
//   - listCollections per database. System collections ("system.*") are
//     skipped except system.js. Options and the UUID (info.uuid) come from
//     the listing; indexes from listIndexes, stored as the server returns
//     them. Views are recorded with their options (viewOn, pipeline) and
//     no data file, as mongodump does. Timeseries collections are recorded
//     with type "timeseries" and their options, and, like mongodump, their
//     bucket documents are read from "system.buckets.<name>" into
//     "system.buckets.<name>.bson.gz", which mongorestore restores; where a
//     server lists no system.buckets namespace (timeseries collections that
//     are not views over buckets) the collection itself is read with
//     rawData: true (untested here: no such server is available).
//   - every document with a find in natural order (hint {$natural: 1}),
//     appended as raw BSON to the snapshot writer: nothing is decoded, and
//     memory is bounded by Parallelism times (one batch, at most 16 MiB,
//     plus the writer's buffer and gzip state), whatever the collection
//     sizes. Document counts and sizes come from the writer.
//
// Collections are read Options.Parallelism at a time over all replica
// sets together; replica sets are connected to and listed concurrently.
// A collection dropped between the listing and its reading (listIndexes
// answers NamespaceNotFound) is left out with a warning.
//
// # Timeouts and cancellation
//
// ConnectTimeout and ServerSelectionTimeout are given to the driver (they
// override the URI's); an unreachable replica set fails Take after about
// ServerSelectionTimeout with an error naming the replica set and its
// seed hosts (the URI, which may hold credentials, is never logged).
// OperationTimeout bounds every command and every fetch of a batch, so a
// server that stops answering fails the capture. Cancelling ctx stops
// every read at the latest after the batch in hand; on any failure or
// cancellation the partial snapshot is deleted (the writer's Abort) and no
// manifest exists. Nothing is written to storage before every replica set
// has answered hello and buildInfo.
//
// # Consistency
//
// The manifest records what was obtained (snapshot.Consistency):
//
//   - pointInTime: on a replica set member that reports a cluster time
//     (hello's operationTime, else $clusterTime), every collection is read
//     with read concern {level: "snapshot", atClusterTime: T}, T being that
//     time taken before the listing; the manifest's clusterTime is T. Each
//     collection's find carries the read concern itself (rather than one
//     shared session, which the driver does not allow to be used from
//     several goroutines); the fixed atClusterTime is what makes the reads
//     one point in time. MongoDB 5.0+ serves such reads outside
//     transactions.
//   - The fallback: when the server refuses a snapshot read (SnapshotTooOld
//     239 once the snapshot window, minSnapshotHistoryWindowInSeconds,
//     300 s by default, has passed; SnapshotUnavailable 246, e.g. for a
//     collection created after T; servers before 5.0 or with majority read
//     concern disabled, which answer InvalidOptions and similar errors),
//     the replica set leaves point-in-time mode: the refused collection is
//     read again without a read concern, as are all that follow;
//     collections already read at T are kept. Since every read happened at
//     or after T, T becomes the start of an oplog window. Deployments
//     whose copy takes longer than the snapshot window therefore end up
//     with the oplog guarantee unless that server parameter is raised.
//   - oplog: a replica set read without a common point (no cluster time,
//     or after the fallback) whose local.oplog.rs exists gets the window
//     mongodump --oplog uses: OplogStart is the newest oplog entry before
//     the first read (or T after a fallback), OplogEnd the newest entry
//     after the last read. What that guarantees, precisely: every document
//     in the snapshot is the state of that document at some moment between
//     OplogStart and OplogEnd (different documents at different moments),
//     so applying the source's oplog entries from OplogStart to OplogEnd
//     (idempotently, as mongorestore --oplogReplay does) would make the
//     data consistent at OplogEnd. snapex does not store those entries and
//     does not replay them: the snapshot itself is not consistent at any
//     single time; the window tells how far apart its reads were, and the
//     source's oplog (while it still holds the window) is what would
//     repair it. If, at the end, the oplog no longer holds OplogStart (it
//     rolled over during the capture), the guarantee is none.
//   - none: no cluster time and no oplog (standalone servers, FerretDB),
//     or an oplog that rolled over.
//
// For a sharded cluster all replica sets are read at one T, the earliest
// cluster time among them (the cluster time is one logical clock across
// the cluster, so it is valid on every shard), and the snapshot is
// pointInTime only if every replica set stayed at T. Otherwise it is
// oplog when every replica set has a window (a replica set read at T whose
// oplog still holds T counts as [T, its newest entry]) with the union of
// the windows, else none. Shards are read directly, not through mongos,
// so documents that a chunk migration left on two shards (orphans) are in
// both trees; stop the balancer during the capture for an exact copy, as
// with mongodump.
//
// # FerretDB
//
// Tests run against FerretDB v1 (SQLite backend) because no mongod can be
// installed where they run; it differs from MongoDB in ways the tests
// document:
//
//   - its hello has no setName and no cluster time, so a capture of
//     FerretDB is never pointInTime; it also has no local.oplog.rs (a find
//     on it answers an empty result, but listCollections does not list it,
//     which is what this package checks), so the guarantee is none. It
//     accepts read concern "snapshot" without honouring it, which is why
//     this package never asks for snapshot reads without a replica set
//     member's cluster time.
//   - it cannot store Decimal128, MinKey, MaxKey, JavaScript (with or
//     without scope), Symbol, DBPointer or Undefined values (it drops the
//     connection), NaN or infinite doubles, or arrays directly inside
//     arrays; it stores -0.0 as 0.0, loses fields with an empty name, and
//     treats some values of different types as equal _ids. The tests use
//     every other type: double, string, document, array, binary subtypes
//     0-9 and 0x80, ObjectId, bool, date, null, regex, int32, timestamp
//     (including the zero timestamp) and int64.
//   - it cannot create views, timeseries collections, validators,
//     collations, or text, 2dsphere, hashed, partial or TTL indexes, and
//     its listIndexes omits "sparse"; views and timeseries collections are
//     tested from listCollections entries shaped as MongoDB returns them,
//     and the snapshot-read path by giving a FerretDB connection the
//     cluster time a MongoDB member would report.
//   - mongorestore cannot restore into it directly: FerretDB reports
//     version 7.0.42, for which mongorestore sends the insert flag
//     bypassEmptyTsReplacement ((FailedToParse) insert: unknown field
//     "bypassEmptyTsReplacement"), and mongorestore adds "ns" to every
//     index specification ((BadValue) Index option "ns" is unknown), which
//     MongoDB ignores. The tests restore through testenv.FerretDBCompat, a
//     wire proxy that removes just those two fields, and then compare every
//     document and index with the source.
package capture
