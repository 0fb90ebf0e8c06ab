package restore

import (
	"bytes"
	"strings"
	"testing"
)

// TestParseToNull counts what the restore's parser produces from an
// export's lines, and names the line of bad input.
func TestParseToNull(t *testing.T) {
	text, size := benchCorpus(t, 40)
	docs, n, err := ParseToNull(bytes.NewReader(text))
	if err != nil || docs != 40 || n != size {
		t.Fatalf("ParseToNull = %d docs, %d bytes, %v; want 40, %d", docs, n, err, size)
	}
	_, _, err = ParseToNull(strings.NewReader("{\"_id\":1}\n{\"_id\":\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("truncated input: err %v, want one naming line 2", err)
	}
}
