// Package service applies snapex's domain rules to requests: it validates
// input against the configured catalog and the stored state, creates and
// reads resources, and returns *atlas.Error values the HTTP layer renders.
// It knows nothing of HTTP.
package service

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// Service is the domain layer over a Repository and the Catalog.
type Service struct {
	Repo    Repository
	Catalog Catalog
	// Access, when set, is asked to verify write access on bucket creation.
	Access AccessChecker
	// Snapshots, when set, is the snapshot storage (deleting a snapshot
	// removes its data).
	Snapshots SnapshotData
	// Observer, when set, counts scheduling outcomes (metrics).
	Observer ScheduleObserver
	// Restores, when set, stores restore jobs (nil: the restore routes
	// answer 404).
	Restores RestoreJobs
	// Namespaces, when set, checks restore jobs' namespace patterns.
	Namespaces NamespaceChecker
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

// ListClusters returns a page of a project's clusters and their total.
func (s *Service) ListClusters(groupID string, p atlas.Page) ([]atlas.Cluster, int) {
	all := s.Catalog.Clusters(groupID)
	start, end := p.Slice(len(all))
	return all[start:end], len(all)
}

// internal wraps an unexpected failure with context; the HTTP layer
// renders it as 500 UNEXPECTED_ERROR and logs the cause.
func internal(op string, err error) error {
	return fmt.Errorf("%s: %w", op, err)
}

func isNotFound(err error) bool { return errors.Is(err, atlas.NotFound) }
