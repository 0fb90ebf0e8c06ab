package snapshot

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestEscapeCollectionName(t *testing.T) {
	cases := map[string]string{
		"plain":             "plain",
		"a/b":               "a%2Fb",
		"../../etc":         "..%2F..%2Fetc",
		"..":                "..",
		"with space":        "with+space",
		"dollar$":           "dollar%24",
		"nul\x00x":          "nul%00x",
		"back\\slash":       "back%5Cslash",
		"unicodé":           "unicod%C3%A9",
		"system.js":         "system.js",
		"a+b":               "a%2Bb",
		"percent%2Fliteral": "percent%252Fliteral",
	}
	for in, want := range cases {
		if got := EscapeCollectionName(in); got != want {
			t.Errorf("EscapeCollectionName(%q) = %q, want %q", in, got, want)
		}
		back, ok, err := UnescapeCollectionName(EscapeCollectionName(in))
		if err != nil || !ok || back != in {
			t.Errorf("UnescapeCollectionName(Escape(%q)) = %q, %v, %v", in, back, ok, err)
		}
	}
}

func TestEscapeCollectionNameShortensLongNames(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes, 1200 escaped
	esc := EscapeCollectionName(long)
	if len(esc) != 238 {
		t.Fatalf("escaped length %d, want 238", len(esc))
	}
	if !strings.Contains(esc[200:], "%24") {
		t.Fatalf("no %%24 hash delimiter in %q", esc)
	}
	if len(esc)+len(".metadata.json.gz") > 255 {
		t.Fatalf("file name would exceed 255 bytes")
	}
	other := EscapeCollectionName(long + "x")
	if other == esc {
		t.Fatalf("two long names share the file name %q", esc)
	}
	if _, ok, err := UnescapeCollectionName(esc); ok || err != nil {
		t.Fatalf("shortened name should not unescape: ok=%v err=%v", ok, err)
	}
	// Just below the limit: no shortening.
	edge := strings.Repeat("a", 238)
	if got := EscapeCollectionName(edge); got != edge {
		t.Fatalf("238-byte name was changed to %q", got)
	}
}

// Every hostile collection name must map to one file directly inside the
// database directory.
func TestHostileCollectionNamesStayInTree(t *testing.T) {
	base := filepath.Join(t.TempDir(), "rs0", "db")
	hostile := []string{
		"..", ".", "../x", "../../../../etc/passwd", "/abs", "a/b/c", "\\..\\..\\w",
		"x\x00y", "%2e%2e", "....", strings.Repeat("../", 200), "system.buckets./..",
	}
	for _, name := range hostile {
		for _, typ := range []CollectionType{TypeCollection, TypeTimeseries} {
			for _, suffix := range []string{".bson.gz", ".metadata.json.gz"} {
				file := dataFileStem(name, typ) + suffix
				if strings.ContainsAny(file, "/\x00\\") {
					t.Errorf("%q: file name %q contains a separator or NUL", name, file)
				}
				full := filepath.Join(base, file)
				if filepath.Dir(full) != base {
					t.Errorf("%q: %q is not directly in %q", name, full, base)
				}
				if err := ValidateKey("id/rs0/db/" + file); err != nil {
					t.Errorf("%q: key rejected: %v", name, err)
				}
			}
		}
	}
}

func TestValidateDBName(t *testing.T) {
	for _, ok := range []string{"app", "my-db", "my_db", "db+1", "ünï", strings.Repeat("d", 63)} {
		if err := ValidateDBName(ok); err != nil {
			t.Errorf("ValidateDBName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a\\b", "a.b", "a b", "a\"b", "a$b", "a\x00b", strings.Repeat("d", 64)} {
		if err := ValidateDBName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateDBName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestEscapeReplicaSetName(t *testing.T) {
	cases := map[string]string{
		"rs0":           "rs0",
		"shard-01_a":    "shard-01_a",
		"..":            "%2E%2E",
		"../x":          "%2E%2E%2Fx",
		"manifest.json": "manifest%2Ejson",
		"a b":           "a%20b",
	}
	for in, want := range cases {
		if got := EscapeReplicaSetName(in); got != want {
			t.Errorf("EscapeReplicaSetName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateKeyAndID(t *testing.T) {
	for _, bad := range []string{"", "/a", "a/", "a//b", "a/./b", "a/../b", "..", "a\\b", "a\x00b"} {
		if err := ValidateKey(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
	for _, good := range []string{"a", "a/b/c.bson.gz", "...bson.gz", "a/..b"} {
		if err := ValidateKey(good); err != nil {
			t.Errorf("ValidateKey(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a b", strings.Repeat("x", 129)} {
		if err := ValidateSnapshotID(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateSnapshotID(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
	if err := ValidateSnapshotID("65a1b2c3d4e5f60718293a4b"); err != nil {
		t.Errorf("ValidateSnapshotID(hex id) = %v", err)
	}
}
