package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// TestSuccessfulRunLogsItsPhases: a successful export ends with one
// "export phases" line naming the job and, in order, how long its setup,
// data files, metadata.json pass and finish took; together they fit in the
// run's own wall time, and a data phase that did real work is not zero.
func TestSuccessfulRunLogsItsPhases(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 300, "crm.people": 40})
	job := f.newJob()
	e := f.engine("w1")
	var out bytes.Buffer
	e.Log = slog.New(slog.NewJSONHandler(&out, nil))
	start := time.Now()
	if err := e.Run(context.Background(), job.ID, false); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)

	var found [][]logAttr
	for line := range bytes.Lines(out.Bytes()) {
		attrs := orderedAttrs(t, line)
		if slices.Contains(attrs, logAttr{"msg", "export phases"}) {
			found = append(found, attrs)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d \"export phases\" lines, want 1; log:\n%s", len(found), out.String())
	}
	want := []string{"setup", "data", "metadata", "finish"}
	var names []string
	durations := map[string]time.Duration{}
	for _, a := range found[0] {
		switch {
		case a.key == "job" && a.value != job.ID:
			t.Fatalf("phases logged for job %v, want %s", a.value, job.ID)
		case slices.Contains(want, a.key):
			// slog's JSON handler writes a duration as its nanoseconds.
			ns, ok := a.value.(float64)
			if !ok || ns < 0 {
				t.Fatalf("phase %s = %v, want a duration", a.key, a.value)
			}
			names = append(names, a.key)
			durations[a.key] = time.Duration(ns)
		}
	}
	if !slices.Equal(names, want) {
		t.Fatalf("phases %v, want %v in that order", names, want)
	}
	if durations["data"] == 0 {
		t.Fatal("the data phase, which wrote every data file, took no time")
	}
	var sum time.Duration
	for _, d := range durations {
		sum += d
	}
	if sum > took {
		t.Fatalf("phases add up to %s, more than the run's %s", sum, took)
	}
}

// logAttr is one key and value of a JSON log line.
type logAttr struct {
	key   string
	value any
}

// orderedAttrs reads a JSON log line's top-level keys and values in the
// order they were written (slog keeps the order its caller gave).
func orderedAttrs(t *testing.T, line []byte) []logAttr {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if _, err := dec.Token(); err != nil {
		t.Fatalf("log line %q: %v", line, err)
	}
	var attrs []logAttr
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		attrs = append(attrs, logAttr{k.(string), v})
	}
	return attrs
}
