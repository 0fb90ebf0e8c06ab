package atlas

// ProgressKey names one unit of export work: a collection on a replica set.
type ProgressKey struct {
	ReplicaSet string
	DB         string
	Coll       string
}

// Progress is how far a unit got: chunks 0..NextChunk-1 are uploaded and
// hold the first DocsDone documents (BytesDone bytes of BSON); Done once
// every document is exported.
type Progress struct {
	ProgressKey
	NextChunk int
	DocsDone  int64
	BytesDone int64
	Done      bool
}
