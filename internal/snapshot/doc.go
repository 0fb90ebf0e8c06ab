// Package snapshot is snapex's snapshot storage format: how the documents,
// indexes and options of a MongoDB deployment are kept between taking a
// snapshot and exporting it, plus the reader, writer and the importer of
// existing mongodump directories.
//
// # Layout
//
// A snapshot is a tree of objects in a Storage, under its id:
//
//	<id>/manifest.json                              written last
//	<id>/<rs>/<db>/<coll>.bson.gz                   gzip of concatenated BSON documents
//	<id>/<rs>/<db>/<coll>.metadata.json.gz          mongodump metadata (canonical EJSON)
//	<id>/<rs>/<db>/system.buckets.<ts>.bson.gz      data of timeseries collection <ts>
//
// Each "<id>/<rs>/" is exactly what `mongodump --gzip --out <rs>` writes
// for that replica set, so `mongorestore --gzip --dir <id>/<rs>` restores
// it. Snapshots written with gzip level 0 (snapshots.uncompressed) store
// the same files without ".gz", as mongodump without --gzip writes them
// (and mongorestore without --gzip reads them). The metadata file holds {"options", "indexes", "uuid",
// "collectionName", "type"} in mongodump's order and encoding; views have a
// metadata file and no data file, as in mongodump.
//
// manifest.json (see Manifest) records the snapshot id, cluster name and
// type (replicaSet or shardedCluster), creation and completion times,
// mongod version, the consistency guarantee obtained (pointInTime with a
// cluster time, oplog with start and end, or none) and, per replica set,
// every collection: database, name, type, UUID, options, document count,
// BSON and compressed sizes, index count, and its file names. A snapshot
// without a manifest is incomplete and Open refuses it.
//
// # Names on disk
//
// Names never produce paths outside the tree:
//
//   - Collection names are escaped as mongodump does (EscapeCollectionName):
//     url.QueryEscape, so "/" becomes %2F, NUL %00, "$" %24, space "+";
//     escaped names longer than 238 bytes are cut to 208 bytes plus "%24"
//     and a base64url SHA-1 of the full name. A suffix is always appended,
//     so a file name is never "." or "..". The full name is kept in the
//     metadata file and the manifest.
//   - Database names are written as they are, as mongodump does, and only
//     names MongoDB itself accepts are stored (ValidateDBName: no '/', '\\',
//     '.', ' ', '"', '$' or NUL), which rules out separators, "." and "..".
//   - Replica-set names are percent-encoded except [A-Za-z0-9_-]
//     (EscapeReplicaSetName).
//   - Snapshot ids are limited to [A-Za-z0-9._-] and cannot be "." or "..".
//   - Storage keys are checked by ValidateKey, manifests read back are
//     checked by Manifest.Validate, and a local directory (the blob driver
//     internal/blob/local) confines every key to its root, so neither
//     hostile names, tampered manifests nor symbolic links reach files
//     outside it.
//
// Two collections whose escaped names coincide (for example a timeseries
// collection "x" and a collection "system.buckets.x") are refused by the
// Writer. Case-insensitive file systems are not accounted for.
package snapshot
