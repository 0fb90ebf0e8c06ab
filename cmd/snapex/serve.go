package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/auth"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/httpapi"
	"github.com/snapex/snapex/internal/httpapi/authgate"
	"github.com/snapex/snapex/internal/metrics"
	"github.com/snapex/snapex/internal/restorejob"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/storerepo"
	"github.com/snapex/snapex/internal/statuspage"
	"github.com/snapex/snapex/internal/store"
)

// runServe handles "snapex serve": load (or first create) the config,
// then serve until SIGTERM or SIGINT.
func runServe(cfgPath, listen string) error {
	if cfgPath == "" {
		p, err := starterConfig("snapex-data")
		if err != nil {
			return err
		}
		cfgPath = p
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if listen != "" {
		cfg.Listen = listen
	}
	log := newLogger(os.Stderr)
	tuneRuntime(cfg, os.Getenv)
	logRuntime(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, log)
}

// starterConfig returns dir's config, creating the starter setup first when
// it does not exist yet.
func starterConfig(dir string) (string, error) {
	p := filepath.Join(dir, starterConfigName)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return writeStarter(dir, os.Stderr)
}

// serve runs the API until ctx ends, then drains in-flight requests.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		return err
	}
	defer st.Close()
	authn, err := auth.New(ctx, cfg, st, auth.Options{})
	if err != nil {
		return fmt.Errorf("start auth: %w", err)
	}
	ss, err := openStores(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open stores: %w", err)
	}
	wk, err := newWorkers(ctx, cfg, st, ss, log)
	if err != nil {
		return fmt.Errorf("start export workers: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	wk.observe(metrics.NewJobs(reg, st, log))
	svc := &service.Service{
		Catalog: cfg.Catalog(), Log: log, Access: ss.dests, Snapshots: ss.snaps,
		Observer: metrics.NewSchedule(reg),
		Repo: &storerepo.Repo{
			Store: st,
			EnqueueExport: func(job *atlas.ExportJob) store.InTx {
				return func(ctx context.Context, tx store.Tx) error { return wk.queue.EnqueueExportTx(ctx, tx, job.ID) }
			},
			EnqueueSnapshot: func(sn *atlas.Snapshot) store.InTx {
				return func(ctx context.Context, tx store.Tx) error { return wk.queue.EnqueueSnapshotTx(ctx, tx, sn.ID) }
			},
		},
		Restores: &storerepo.Restores{Store: st, Enqueue: func(j *atlas.RestoreJob) store.InTx {
			return func(ctx context.Context, tx store.Tx) error { return wk.queue.EnqueueRestoreTx(ctx, tx, j.ID) }
		}},
		Namespaces: restorejob.NamespaceChecker{},
	}
	api := &httpapi.Server{
		Service: svc, Gate: authgate.New(authn), Log: log, ExternalURL: cfg.ExternalURL,
		Ready: func(r *http.Request) error { return st.Ping(r.Context()) },
		Extra: map[string]http.Handler{
			"POST /api/oauth/token":  authn.TokenHandler(),
			"POST /api/oauth/revoke": authn.RevokeHandler(),
			"GET /metrics":           promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		},
	}
	if !cfg.StatusPage.Disabled {
		ui := &statuspage.Page{Service: svc, Gate: api.Gate, Projects: cfg.Projects, Log: log}
		api.Extra["GET /ui"], api.Extra["GET /ui/"] = ui, ui
	}
	if !cfg.RateLimit.Disabled {
		api.Limiter = httpapi.NewRateLimiter(cfg.RateLimit.RequestsPerMinute)
	}
	handler := httpapi.Instrument(api.Handler(), log, httpapi.NewMetrics(reg))
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	log.Info("snapex serving", "addr", ln.Addr().String(), "config", cfg.Path(), "database", st.Engine(), "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	if err := wk.start(workCtx, svc, log); err != nil {
		return err
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("snapex shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Running exports stop at their next chunk boundary and release their
	// leases; another replica (or the next start) resumes them.
	stopWork()
	if err := wk.queue.Stop(shutdownCtx); err != nil {
		log.Warn("stop queue", "err", err)
	}
	return nil
}
