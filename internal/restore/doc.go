// Package restore loads an export in Atlas's layout (the one snapex's
// export engine and Atlas both write) from a bucket into MongoDB.
//
// An export under a prefix holds, per collection,
// <prefix>/<db>/<coll>/<replicaSet>.<n>.json.gz (gzipped Extended JSON,
// possibly several gzip members) and <prefix>/<db>/<coll>/metadata.json,
// and <prefix>/.complete last. [Scan] reads .complete and lists the
// prefix, and refuses an export whose files are not all there before
// anything is written. [Engine.Run] then creates each target collection
// with the options of its metadata.json, streams its data files into it
// with unordered bulk inserts (collections and files in parallel, memory
// bounded by Parallelism batches in flight), rebuilds its indexes, and
// finally compares every collection's document count with what the export
// held.
//
// # Exactness across restarts
//
// Progress is recorded through a [Progress] store after every batch: for
// each data file, how many documents of it are in the target. A restore
// run again with the same export and namespace options continues each
// file after its recorded documents. At most one batch per file can have
// been written without being recorded (the next batch is only sent once
// the previous one is recorded); on a resumed run the first batch of every
// file is therefore sent in "uncertain" mode: a duplicate-key error on a
// document whose stored copy is byte-for-byte the document being restored
// is that earlier write, not a duplicate. Everything else follows the
// duplicate policy. The batch limits are recorded with the run and reused,
// so the uncertain batch is exactly the one that was in flight.
package restore
