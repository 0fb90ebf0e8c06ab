package capture

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/snapshot"
)

// rsResult is the consistency one replica set obtained.
type rsResult struct {
	name      string
	guarantee snapshot.Guarantee
	// at is the cluster time of a pointInTime replica set.
	at bson.Timestamp
	// oplog is true when the replica set's oplog, at the end of the
	// capture, still held every entry after start; start and end then
	// bracket every state its reads saw (start = at for pointInTime).
	oplog      bool
	start, end bson.Timestamp
}

// combine turns the replica sets' results into the snapshot's guarantee:
//
//   - pointInTime when every replica set was read at the same cluster time;
//   - oplog when every replica set was read either at a cluster time or
//     inside an oplog window whose entries were all still in its oplog at
//     the end; the window is the union of theirs;
//   - none otherwise.
func combine(results []rsResult) snapshot.Consistency {
	if len(results) == 0 {
		return snapshot.Consistency{Guarantee: snapshot.GuaranteeNone}
	}
	allPIT := true
	for _, r := range results {
		if r.guarantee != snapshot.GuaranteePointInTime || r.at != results[0].at {
			allPIT = false
			break
		}
	}
	if allPIT {
		at := results[0].at
		return snapshot.Consistency{
			Guarantee:   snapshot.GuaranteePointInTime,
			ClusterTime: &snapshot.Timestamp{T: at.T, I: at.I},
		}
	}
	var start, end bson.Timestamp
	for i, r := range results {
		if r.guarantee == snapshot.GuaranteeNone || !r.oplog {
			return snapshot.Consistency{Guarantee: snapshot.GuaranteeNone}
		}
		if i == 0 || tsLess(r.start, start) {
			start = r.start
		}
		if i == 0 || tsLess(end, r.end) {
			end = r.end
		}
	}
	return snapshot.Consistency{
		Guarantee:  snapshot.GuaranteeOplog,
		OplogStart: &snapshot.Timestamp{T: start.T, I: start.I},
		OplogEnd:   &snapshot.Timestamp{T: end.T, I: end.I},
	}
}
