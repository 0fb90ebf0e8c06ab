package config

import (
	"fmt"
	"strings"

	"github.com/xrash/smetrics"
)

// unknownField explains an unknown key: the nearest known field when one
// is close enough to be a typo, otherwise the list of known fields.
func unknownField(key string, known []string) string {
	if best, ok := nearest(key, known); ok {
		return fmt.Sprintf("unknown field `%s`; did you mean `%s`?", key, best)
	}
	return fmt.Sprintf("unknown field `%s`; known fields are %s", key, strings.Join(known, ", "))
}

// nearest returns the known name with the smallest edit distance to key
// when that distance is small
// relative to the key's length.
func nearest(key string, known []string) (string, bool) {
	best, bestDist := "", -1
	for _, k := range known {
		// Compared in lower case: a field that differs only in case
		// (`externalUrl`) is surely the intended one.
		d := smetrics.WagnerFischer(strings.ToLower(key), strings.ToLower(k), 1, 1, 1)
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	limit := max(2, len(key)/3)
	return best, bestDist >= 0 && bestDist <= limit
}
