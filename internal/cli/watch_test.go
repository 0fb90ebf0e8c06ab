package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// TestWatchPrintsChangesAndEndsOnState: the line renderer prints a line
// per change (not per poll); Successful ends the watch without error,
// Failed and Cancelled with the state reason.
func TestWatchPrintsChangesAndEndsOnState(t *testing.T) {
	job := func(state string, done int, reason string) *admin.DiskBackupExportJob {
		j := &admin.DiskBackupExportJob{State: admin.PtrString(state),
			ExportStatus: &admin.ExportStatus{ExportedCollections: admin.PtrInt(done), TotalCollections: admin.PtrInt(2)}}
		if reason != "" {
			j.StateReason = &admin.StateReason{Message: admin.PtrString(reason), ErrorCode: admin.PtrString("EXPORT_FAILED")}
		}
		return j
	}
	cases := []struct {
		name    string
		seq     []*admin.DiskBackupExportJob
		wantOut string
		wantErr string
	}{
		{"successful", []*admin.DiskBackupExportJob{job("Queued", 0, ""), job("Queued", 0, ""), job("InProgress", 1, ""), job("Successful", 2, "")},
			"export job j: Queued, 0/2 collections exported\nexport job j: InProgress, 1/2 collections exported\nexport job j: Successful, 2/2 collections exported\n", ""},
		{"failed", []*admin.DiskBackupExportJob{job("InProgress", 1, ""), job("Failed", 1, "bucket gone")},
			"export job j: InProgress, 1/2 collections exported\nexport job j: Failed, 1/2 collections exported\nexport job j: bucket gone (EXPORT_FAILED)\n",
			"export job j ended Failed: bucket gone (EXPORT_FAILED)"},
		{"cancelled", []*admin.DiskBackupExportJob{job("Cancelled", 0, "cancelled by a user")}, "", "ended Cancelled: cancelled by a user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			i := 0
			w := &watcher{interval: time.Millisecond, render: NewLineRenderer(&out),
				poll: func(context.Context) (Progress, bool, bool, error) {
					j := c.seq[min(i, len(c.seq)-1)]
					i++
					return jobProgress("j", j)
				}}
			err := w.run(t.Context())
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("watch error %v, want %q", err, c.wantErr)
			}
			if c.wantOut != "" && out.String() != c.wantOut {
				t.Fatalf("watch printed:\n%s\nwant:\n%s", out.String(), c.wantOut)
			}
		})
	}
}

// TestWatchRidesOutUnansweredPolls: polls that get no answer (a server
// restarting) are retried with a warning; an API error ends the watch at
// once; too many unanswered polls in a row end it too.
func TestWatchRidesOutUnansweredPolls(t *testing.T) {
	down := &unreachableError{errors.New("cannot reach http://127.0.0.1:8080: connection refused")}
	run := func(errs []error) (error, string, int) {
		var warn bytes.Buffer
		calls := 0
		w := &watcher{interval: time.Millisecond, render: NewLineRenderer(io.Discard), warn: &warn,
			poll: func(context.Context) (Progress, bool, bool, error) {
				calls++
				if calls <= len(errs) {
					return Progress{}, false, false, errs[calls-1]
				}
				return jobProgress("j", &admin.DiskBackupExportJob{State: admin.PtrString("Successful")})
			}}
		err := w.run(t.Context())
		return err, warn.String(), calls
	}
	if err, warn, calls := run([]error{down, down, down}); err != nil || calls != 4 || strings.Count(warn, "retrying") != 3 {
		t.Fatalf("three unanswered polls: err %v after %d polls, warnings:\n%s", err, calls, warn)
	}
	apiErr := errors.New("describe export job j: Cannot find resource (HTTP 404, RESOURCE_NOT_FOUND)")
	if err, _, calls := run([]error{apiErr}); err != apiErr || calls != 1 {
		t.Fatalf("API error: %v after %d polls", err, calls)
	}
	many := make([]error, maxUnreachable+1)
	for i := range many {
		many[i] = down
	}
	if err, _, calls := run(many); !errors.Is(err, down) || calls != maxUnreachable+1 {
		t.Fatalf("%d unanswered polls: %v after %d polls", len(many), err, calls)
	}
}

// TestWatchShowsExtensionProgress: with snapex's progress extension in
// the response, the line renderer shows documents, bytes, the attempt and
// the last error while retrying, and the final state.
func TestWatchShowsExtensionProgress(t *testing.T) {
	bodies := []string{
		`{"state":"InProgress","snapexProgress":{"documentsExported":0,"documentsTotal":1000,"bytesExported":0,"bytesTotal":4096,"attempt":1}}`,
		`{"state":"InProgress","snapexProgress":{"documentsExported":250,"documentsTotal":1000,"bytesExported":1024,"bytesTotal":4096,"attempt":1}}`,
		`{"state":"InProgress","snapexProgress":{"documentsExported":250,"documentsTotal":1000,"bytesExported":1024,"bytesTotal":4096,"attempt":1,"lastError":"upload: connection reset","nextAttemptAt":"2026-12-05T01:00:00Z"}}`,
		`{"state":"InProgress","snapexProgress":{"documentsExported":600,"documentsTotal":1000,"bytesExported":2048,"bytesTotal":4096,"attempt":2,"lastError":"upload: connection reset"}}`,
		`{"state":"Successful","snapexProgress":{"documentsExported":1000,"documentsTotal":1000,"bytesExported":4096,"bytesTotal":4096,"attempt":2,"lastError":"upload: connection reset"}}`,
	}
	states := []string{"InProgress", "InProgress", "InProgress", "InProgress", "Successful"}
	var out bytes.Buffer
	i := 0
	w := &watcher{interval: time.Millisecond, render: NewLineRenderer(&out),
		poll: func(context.Context) (Progress, bool, bool, error) {
			n := min(i, len(bodies)-1)
			i++
			p, terminal, ok, err := jobProgress("j", &admin.DiskBackupExportJob{State: admin.PtrString(states[n])})
			addExtension(&p, []byte(bodies[n]))
			return p, terminal, ok, err
		}}
	if err := w.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"export job j: InProgress, 0/1,000 documents, 0 B/4.0 KiB (0%)",
		"export job j: InProgress, 250/1,000 documents, 1.0 KiB/4.0 KiB (25%)",
		"attempt 1, last error: upload: connection reset (retry at 2026-12-05T01:00:00Z)",
		"export job j: InProgress, 600/1,000 documents, 2.0 KiB/4.0 KiB (50%)",
		"export job j: Successful, 1,000/1,000 documents, 4.0 KiB/4.0 KiB (100%), attempt 2",
	}
	if len(lines) != len(want) {
		t.Fatalf("watch printed %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for k, w := range want {
		if !strings.Contains(lines[k], w) {
			t.Errorf("line %d = %q, want it to contain %q", k, lines[k], w)
		}
	}
	if !strings.Contains(lines[3], "/s") || !strings.Contains(lines[3], "ETA") {
		t.Errorf("a running line shows no rate and ETA: %q", lines[3])
	}
	if strings.Contains(lines[4], "last error") {
		t.Errorf("the final line still shows the last error: %q", lines[4])
	}
}

// TestSnapshotWatchSaysWhyItFailed: a failed snapshot's reason (snapex's
// snapexFailureReason; Atlas's snapshot has no such field) is printed and
// returned, so `snapshots watch` does not end on a bare "failed".
func TestSnapshotWatchSaysWhyItFailed(t *testing.T) {
	var out bytes.Buffer
	w := &watcher{interval: time.Millisecond, render: NewLineRenderer(&out),
		poll: func(context.Context) (Progress, bool, bool, error) {
			p := Progress{Kind: "snapshot", ID: "s", State: "failed", Unit: "captured"}
			addExtension(&p, []byte(`{"status":"failed","snapexFailureReason":"replica set \"rs0\": unreachable","snapexProgress":{"documentsCaptured":0}}`))
			return p, true, false, nil
		}}
	err := w.run(t.Context())
	if err == nil || !strings.Contains(err.Error(), `snapshot s ended failed: replica set "rs0": unreachable`) {
		t.Fatalf("watch of a failed snapshot returned %v", err)
	}
	if !strings.Contains(out.String(), `snapshot s: replica set "rs0": unreachable`) {
		t.Fatalf("watch printed no reason:\n%s", out.String())
	}
}

// TestBarRendererEndsWithStateAndReason: the bar renderer, drawn into a
// buffer, ends with the final state and the reason.
func TestBarRendererEndsWithStateAndReason(t *testing.T) {
	var out bytes.Buffer
	r := newBarRenderer(&out)
	p := Progress{Kind: "export job", ID: "j", State: "InProgress", Extended: true, Documents: 10, DocumentsTotal: 100, Bytes: 100, BytesTotal: 1000, Attempt: 2, LastError: "boom"}
	r.Update(p)
	p.State, p.Reason = "Failed", "bucket gone (EXPORT_FAILED)"
	r.Finish(p, false)
	if !strings.HasSuffix(out.String(), "export job j: Failed\nexport job j: bucket gone (EXPORT_FAILED)\n") {
		t.Fatalf("bar renderer printed:\n%s", out.String())
	}
}

// TestBarRendererDrawsComponents: a sharded export gets a bar per
// replica set under the job's bar.
func TestBarRendererDrawsComponents(t *testing.T) {
	var out bytes.Buffer
	r := newBarRenderer(&out)
	p := Progress{Kind: "export job", ID: "j", State: "InProgress", Extended: true, Bytes: 300, BytesTotal: 1000,
		Components: []ComponentProgress{{ReplicaSet: "shard0", Bytes: 200, BytesTotal: 500}, {ReplicaSet: "shard1", Bytes: 100, BytesTotal: 500}}}
	r.Update(p)
	p.State, p.Bytes = "Successful", 1000
	p.Components[0].Bytes, p.Components[1].Bytes = 500, 500
	r.Finish(p, true)
	got := out.String()
	for _, want := range []string{"shard0", "shard1", "export job j: Successful\n"} {
		if !strings.Contains(got, want) {
			t.Fatalf("bar renderer output lacks %q:\n%s", want, got)
		}
	}
}
