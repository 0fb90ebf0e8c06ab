// Package httpapi serves the Atlas Admin API v2 export surface over
// net/http: version negotiation, authentication hooks, envelope and pretty,
// pagination links, and Atlas-shaped errors. Domain rules live in package
// service; this package only translates HTTP to and from it.
package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
)

// Gate authenticates requests; the Caller it returns authorizes operations.
type Gate interface {
	// Authenticate identifies the caller; on failure it has set the
	// challenge headers and returns the error to render.
	Authenticate(w http.ResponseWriter, r *http.Request) (Caller, *atlas.Error)
	// Challenge sets the WWW-Authenticate header every 401 must carry.
	Challenge(h http.Header)
}

// Caller is an authenticated principal.
type Caller interface {
	// ID names the caller (API public key or service-account client id).
	ID() string
	// Authorize decides whether the caller may run operation in project.
	Authorize(operation atlas.Operation, project atlas.Project) *atlas.Error
}

// Server is the HTTP API.
type Server struct {
	Service *service.Service
	Gate    Gate
	Log     *slog.Logger
	// ExternalURL is the base for absolute links; empty derives it from
	// each request's Host.
	ExternalURL string
	// Now is the clock used for sunset decisions (time.Now when nil).
	Now func() time.Time
	// Extra mounts additional handlers (OAuth endpoints, metrics, health).
	Extra map[string]http.Handler
	// Limiter, when set, rate-limits each caller.
	Limiter *RateLimiter
	// Ready reports whether the service can take traffic (for /readyz).
	Ready func(r *http.Request) error
}

// call is one API request on its way through the route pipeline.
type call struct {
	w       http.ResponseWriter
	r       *http.Request
	v       apiVersion
	caller  Caller
	project atlas.Project
	cluster atlas.Cluster
}

type route struct {
	method, pattern string
	op              atlas.Operation
	versions        []apiVersion
	handle          func(s *Server, c *call) error
}

const groupBase = "/api/atlas/v2/groups/{groupId}"

// routes is every API operation snapex serves.
var routes = []route{
	{"GET", "/backup/exportBuckets", atlas.OpListExportBuckets, bucketReadVersions, (*Server).listBuckets},
	{"POST", "/backup/exportBuckets", atlas.OpCreateExportBucket, bucketReadVersions, (*Server).createBucket},
	{"GET", "/backup/exportBuckets/{exportBucketId}", atlas.OpGetExportBucket, bucketReadVersions, (*Server).getBucket},
	{"DELETE", "/backup/exportBuckets/{exportBucketId}", atlas.OpDeleteExportBucket, bucketDeleteVersions, (*Server).deleteBucket},
	{"PATCH", "/backup/exportBuckets/{exportBucketId}", atlas.OpUpdateBackupExportBucket, bucketPatchVersions, (*Server).patchBucket},
	{"GET", "/clusters", atlas.OpListClusters, clusterVersions, (*Server).listClusters},
	{"GET", "/clusters/{clusterName}", atlas.OpGetCluster, clusterVersions, (*Server).getCluster},
	{"GET", "/clusters/{clusterName}/backup/exports", atlas.OpListBackupExports, backupVersions, (*Server).listExports},
	{"POST", "/clusters/{clusterName}/backup/exports", atlas.OpCreateBackupExport, backupVersions, (*Server).createExport},
	{"GET", "/clusters/{clusterName}/backup/exports/{exportId}", atlas.OpGetBackupExport, backupVersions, (*Server).getExport},
	// A snapex extension; cancelling needs the role creating needs.
	{"DELETE", "/clusters/{clusterName}/backup/exports/{exportId}", atlas.OpCancelBackupExport, backupVersions, (*Server).cancelExport},
	{"GET", "/clusters/{clusterName}/backup/snapshots", atlas.OpListBackupSnapshots, backupVersions, (*Server).listReplicaSetSnapshots},
	{"GET", "/clusters/{clusterName}/backup/snapshots/{snapshotId}", atlas.OpGetClusterBackupSnapshot, backupVersions, (*Server).getReplicaSetSnapshot},
	{"POST", "/clusters/{clusterName}/backup/snapshots", atlas.OpTakeSnapshots, backupVersions, (*Server).takeSnapshot},
	{"PATCH", "/clusters/{clusterName}/backup/snapshots/{snapshotId}", atlas.OpUpdateBackupSnapshot, backupVersions, (*Server).patchSnapshot},
	{"DELETE", "/clusters/{clusterName}/backup/snapshots/{snapshotId}", atlas.OpDeleteClusterBackupSnapshot, backupVersions, (*Server).deleteReplicaSetSnapshot},
	{"DELETE", "/clusters/{clusterName}/backup/snapshots/shardedCluster/{snapshotId}", atlas.OpDeleteBackupShardedCluster, backupVersions, (*Server).deleteShardedSnapshot},
	{"GET", "/clusters/{clusterName}/backup/snapshots/shardedClusters", atlas.OpListBackupShardedClusters, backupVersions, (*Server).listShardedSnapshots},
	{"GET", "/clusters/{clusterName}/backup/snapshots/shardedCluster/{snapshotId}", atlas.OpGetBackupShardedCluster, backupVersions, (*Server).getShardedSnapshot},
	{"GET", "/clusters/{clusterName}/backup/schedule", atlas.OpGetBackupSchedule, scheduleVersions, (*Server).getSchedule},
	{"PATCH", "/clusters/{clusterName}/backup/schedule", atlas.OpUpdateBackupSchedule, scheduleVersions, (*Server).patchSchedule},
	{"DELETE", "/clusters/{clusterName}/backup/schedule", atlas.OpDeleteBackupSchedule, scheduleVersions, (*Server).deleteSchedule},
	// The restore-job extension (restores.go).
	{"POST", "/clusters/{clusterName}/backup/snapexRestoreJobs", atlas.OpCreateSnapexRestoreJob, backupVersions, (*Server).createRestore},
	{"GET", "/clusters/{clusterName}/backup/snapexRestoreJobs", atlas.OpListSnapexRestoreJobs, backupVersions, (*Server).listRestores},
	{"GET", "/clusters/{clusterName}/backup/snapexRestoreJobs/{restoreJobId}", atlas.OpGetSnapexRestoreJob, backupVersions, (*Server).getRestore},
	{"DELETE", "/clusters/{clusterName}/backup/snapexRestoreJobs/{restoreJobId}", atlas.OpCancelSnapexRestoreJob, backupVersions, (*Server).cancelRestore},
}

// Handler builds the root handler with every route and middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.method+" "+groupBase+rt.pattern, s.apiHandler(rt))
	}
	for _, rt := range v1Routes {
		mux.Handle(rt.method+" "+v1GroupBase+rt.pattern, s.apiHandler(rt))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	for pattern, h := range s.Extra {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.unmatched(mux, w, r)
	})
	// ServeMux answers unclean paths ("..", "//") with an HTML redirect;
	// an API answers them as unknown resources.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/") {
			if !s.authenticateUnmatched(w, r) {
				return
			}
			writeError(w, r, atlas.ErrResourceNotFound(p))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.Ready != nil {
		if err := s.Ready(r); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

// apiHandler runs the pipeline Atlas applies: authenticate, negotiate the
// version, resolve the project, authorize, resolve the cluster, handle.
func (s *Server) apiHandler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r}
		caller, aerr := s.Gate.Authenticate(w, r)
		if aerr != nil {
			writeError(w, r, aerr)
			return
		}
		c.caller = caller
		NoteCaller(r.Context(), caller.ID())
		var err error
		if s.Limiter != nil {
			if aerr := s.Limiter.allow(w.Header(), caller.ID(), s.now()); aerr != nil {
				err = aerr
			}
		}
		if err == nil {
			err = s.run(rt, c)
		}
		if err == nil {
			return
		}
		var ae *atlas.Error
		if !errors.As(err, &ae) {
			s.logger().ErrorContext(r.Context(), "request failed", "op", rt.op, "err", err)
			ae = atlas.ErrUnexpected()
		}
		if ae.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			s.Gate.Challenge(w.Header())
		}
		writeError(w, r, ae)
	})
}

func (s *Server) run(rt route, c *call) error {
	if aerr := checkFormat(c.r); aerr != nil {
		return aerr
	}
	v, aerr := negotiate(c.r, rt.versions, s.now())
	if aerr != nil {
		return aerr
	}
	c.v = v
	project, err := s.Service.Project(c.r.PathValue("groupId"))
	if err != nil {
		return err
	}
	if aerr := c.caller.Authorize(rt.op, project); aerr != nil {
		return aerr
	}
	c.project = project
	if name := c.r.PathValue("clusterName"); strings.Contains(rt.pattern, "{clusterName}") {
		if c.cluster, err = s.Service.Cluster(project.ID, name); err != nil {
			return err
		}
	}
	return rt.handle(s, c)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// baseURL is the absolute URL of the request path, for links.
func (s *Server) baseURL(r *http.Request) string {
	if s.ExternalURL != "" {
		return strings.TrimRight(s.ExternalURL, "/") + r.URL.Path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.Path
}

// origin is the absolute URL root, for links to other resources.
func (s *Server) origin(r *http.Request) string {
	base := s.baseURL(r)
	return strings.TrimSuffix(base, r.URL.Path)
}
