package atlas

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"sync/atomic"
	"time"
)

var objectIDPattern = regexp.MustCompile(`^[a-f0-9]{24}$`)

// processUnique and counter give ObjectIDs the same shape MongoDB uses:
// 4 bytes of seconds, 5 random bytes per process, 3 bytes of counter.
var (
	processUnique [5]byte
	counter       atomic.Uint32
)

func init() {
	if _, err := rand.Read(processUnique[:]); err != nil {
		panic("atlas: no randomness for ObjectID: " + err.Error())
	}
	var c [4]byte
	_, _ = rand.Read(c[:])
	counter.Store(binary.BigEndian.Uint32(c[:]))
}

// NewObjectID returns a new 24-hex identifier shaped like a MongoDB ObjectId,
// ordered by creation second.
func NewObjectID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(now.Unix()))
	copy(b[4:9], processUnique[:])
	n := counter.Add(1)
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	return hex.EncodeToString(b[:])
}

// ValidObjectID reports whether s is 24 lowercase hex characters, the form
// Atlas uses for every resource id.
func ValidObjectID(s string) bool { return objectIDPattern.MatchString(s) }
