package manifest

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

func gz(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts { // one gzip member per part, as the exporter writes blocks
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(p))
		zw.Close()
	}
	return b.Bytes()
}

func TestCountLines(t *testing.T) {
	good := gz("{\"a\":1}\n{\"a\":2}\n", "{\"a\":3}\n")
	if n, err := CountLines(bytes.NewReader(good)); err != nil || n != 3 {
		t.Fatalf("multi-member stream: %d %v", n, err)
	}
	long := gz("{\"s\":\"" + strings.Repeat("x", 3<<20) + "\"}\n")
	if n, err := CountLines(bytes.NewReader(long)); err != nil || n != 1 {
		t.Fatalf("a line longer than the read buffer: %d %v", n, err)
	}
	for name, data := range map[string][]byte{
		"not gzip":    []byte("{\"a\":1}\n"),
		"truncated":   good[:len(good)-5],
		"not JSON":    gz("{\"a\":1}\nnot json\n"),
		"not objects": gz("[1,2]\n"),
	} {
		if _, err := CountLines(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
