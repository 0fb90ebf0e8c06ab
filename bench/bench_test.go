package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestDocGenProducesValidKiBDocuments(t *testing.T) {
	g := newDocGen(rand.New(rand.NewPCG(1, 2)), 3)
	var total int
	const n = 2000
	types := map[bson.Type]bool{}
	for range n {
		doc, err := g.next()
		if err != nil {
			t.Fatal(err)
		}
		if err := bson.Raw(doc).Validate(); err != nil {
			t.Fatalf("invalid document: %v", err)
		}
		elems, _ := bson.Raw(doc).Elements()
		for _, e := range elems {
			types[e.Value().Type] = true
		}
		total += len(doc)
	}
	if avg := total / n; avg < 900 || avg > 1150 {
		t.Errorf("average document size %d bytes, want about 1 KiB", avg)
	}
	for _, want := range []bson.Type{bson.TypeObjectID, bson.TypeString, bson.TypeInt32, bson.TypeInt64,
		bson.TypeDouble, bson.TypeDateTime, bson.TypeEmbeddedDocument, bson.TypeArray, bson.TypeDecimal128,
		bson.TypeBinary, bson.TypeNull, bson.TypeBoolean} {
		if !types[want] {
			t.Errorf("no top-level %v in %d documents", want, n)
		}
	}
}

func TestSummarizeMedianAndRange(t *testing.T) {
	s, ok := summarize([]result{{Wall: 3 * time.Second, RSS: 5}, {Wall: time.Second, RSS: 9}, {Wall: 2 * time.Second, RSS: 7}})
	if !ok || s.median != 2*time.Second || s.min != time.Second || s.max != 3*time.Second || s.rss != 9 {
		t.Fatalf("summarize = %+v", s)
	}
	s, _ = summarize([]result{{Wall: time.Second}, {Wall: 2 * time.Second}})
	if s.median != 1500*time.Millisecond {
		t.Fatalf("even median = %v", s.median)
	}
}

func TestParseListKeepsCanonicalOrder(t *testing.T) {
	got, err := parseList("limit, snapex-local,limit", allContenders, "contender")
	if err != nil || len(got) != 2 || got[0] != cSnapexLocal || got[1] != cLimit {
		t.Fatalf("parseList = %v, %v", got, err)
	}
	if _, err := parseList("nope", allContenders, "contender"); err == nil {
		t.Fatal("unknown contender accepted")
	}
}

// TestExportNoteReadsServerLog checks that the note is read from the
// server's log lines, whose durations slog writes as strings.
func TestExportNoteReadsServerLog(t *testing.T) {
	out := `{"level":"INFO","msg":"other"}` + "\n" +
		`{"time":"2026-12-05T03:29:05Z","level":"INFO","msg":"small collections in flight","job":"j","highest":256,"shortestWrite":"21.252559ms","meanWrite":"40.072673ms","meanEncode":"287.782µs"}` + "\n" +
		`{"time":"2026-12-05T03:29:06Z","level":"INFO","msg":"export phases","job":"j","setup":"71.2ms","data":"936.4ms","metadata":"262.01ms","finish":"1.2ms"}` + "\n"
	got := exportNote(out)
	want := "up to 256 small collections in flight (single-request writes: shortest 21.25ms, mean 40.07ms; mean encode of a small block 288µs); " +
		"phases: setup 71ms, data files 936ms, metadata.json 262ms, finish 1ms"
	if got != want {
		t.Fatalf("exportNote = %q, want %q", got, want)
	}
	if got := exportNote(`{"msg":"other"}`); got != "" {
		t.Fatalf("exportNote of a log without either line = %q, want nothing", got)
	}
}

// TestOverlappedBound: the bound is the floor's wall time or the summed
// CPU time ÷ cores, whichever is larger, and needs every contender named.
func TestOverlappedBound(t *testing.T) {
	one := func(wall, cpu time.Duration) *cell { return &cell{Runs: []result{{Wall: wall, CPU: cpu}}} }
	rp := &report{CPUs: 2, Cells: map[string]map[string]*cell{dsTiny: {
		cFiles: one(400*time.Millisecond, 500*time.Millisecond),
		cLimit: one(300*time.Millisecond, 600*time.Millisecond),
	}}}
	if got, ok := rp.overlapped(cLimit); !ok || got != 0.55 {
		t.Fatalf("floor + limit = %v, %v; want 0.55 s (1.1 CPU s ÷ 2 cores)", got, ok)
	}
	if _, ok := rp.overlapped(cLimit, cConvert); ok {
		t.Fatal("a bound without the convert contender's result")
	}
	rp.Cells[dsTiny][cFiles] = one(2*time.Second, 500*time.Millisecond)
	if got, _ := rp.overlapped(cLimit); got != 2 {
		t.Fatalf("with a slow floor = %v, want its wall time 2 s", got)
	}
}
