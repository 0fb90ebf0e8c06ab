// Package service applies snapex's domain rules to requests: it validates
// input against the configured catalog and the stored state, creates and
// reads resources, and returns *atlas.Error values the HTTP layer renders.
// It knows nothing of HTTP.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// AccessChecker proves snapex can write into a bucket with the access
// role's credentials (by writing the .permissioncheck object).
type AccessChecker interface {
	CheckBucketAccess(ctx context.Context, b *atlas.ExportBucket) error
}

// Service is the domain layer over the store and the config catalog.
type Service struct {
	Store   *store.Store
	Catalog *config.Catalog
	// Access, when set, is asked to verify write access on bucket creation.
	Access AccessChecker
	// EnqueueExport, when set, runs in the transaction creating an export
	// job and schedules its processing.
	EnqueueExport func(job *atlas.ExportJob) store.InTx
	// EnqueueSnapshot, when set, runs in the transaction creating an
	// on-demand snapshot and schedules taking it.
	EnqueueSnapshot func(sn *atlas.Snapshot) store.InTx
	// Snapshots is the snapshot storage (deleting a snapshot removes its data).
	Snapshots snapshot.Storage
	// Observer, when set, counts scheduling outcomes (metrics).
	Observer ScheduleObserver
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Project validates a project id and looks it up.
func (s *Service) Project(groupID string) (atlas.Project, error) {
	if !atlas.ValidObjectID(groupID) {
		return atlas.Project{}, atlas.ErrInvalidGroupID(groupID)
	}
	p, ok := s.Catalog.Project(groupID)
	if !ok {
		return atlas.Project{}, atlas.ErrGroupNotFound(groupID)
	}
	return p, nil
}

// Cluster validates a cluster name and looks it up in a project.
func (s *Service) Cluster(groupID, name string) (atlas.Cluster, error) {
	if !atlas.ValidClusterName(name) {
		return atlas.Cluster{}, atlas.ErrInvalidPathParameter("clusterName", name)
	}
	c, ok := s.Catalog.Cluster(groupID, name)
	if !ok {
		return atlas.Cluster{}, atlas.ErrClusterNotFound(name, groupID)
	}
	return c, nil
}

// Clusters lists a project's clusters.
func (s *Service) Clusters(groupID string) []atlas.Cluster { return s.Catalog.Clusters(groupID) }

// internal wraps an unexpected failure with context; the HTTP layer
// renders it as 500 UNEXPECTED_ERROR and logs the cause.
func internal(op string, err error) error {
	return fmt.Errorf("%s: %w", op, err)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
