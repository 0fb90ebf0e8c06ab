package config_test

import (
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/config"
)

// TestSchedulingSettings checks the scheduling knobs: passes every 30 s
// and on by default; schedulingDisabled turns them off; an interval out
// of range is refused with its path.
func TestSchedulingSettings(t *testing.T) {
	t.Setenv("TEST_S3_SECRET", "s3-secret")
	cfg, err := config.Load(write(t, valid))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Snapshots.ScheduleCheckSeconds != 30 || cfg.Snapshots.SchedulingDisabled {
		t.Fatalf("defaults: %+v", cfg.Snapshots)
	}
	cfg, err = config.Load(write(t, valid+"snapshots: {schedulingDisabled: true, scheduleCheckSeconds: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Snapshots.SchedulingDisabled || cfg.Snapshots.ScheduleCheckSeconds != 5 {
		t.Fatalf("set: %+v", cfg.Snapshots)
	}
	if err := config.Check(write(t, valid+"snapshots: {schedulingDisabled: true}\n")); err != nil {
		t.Fatalf("config check refuses schedulingDisabled: %v", err)
	}
	_, err = config.Load(write(t, valid+"snapshots: {scheduleCheckSeconds: 7200}\n"))
	if err == nil || !strings.Contains(err.Error(), "snapshots.scheduleCheckSeconds") {
		t.Fatalf("an interval of two hours: %v", err)
	}
}
