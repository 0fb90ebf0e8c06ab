// Package statuspage serves a server-rendered HTML page at /ui showing,
// per project the caller may read, its clusters, snapshots and export
// jobs with their states, reasons, progress, and the bucket and prefix
// each export went to. It is plain html/template embedded in the binary,
// behind the API's authentication (browsers answer the digest challenge
// themselves), and refreshes itself with a meta refresh — no script and
// no build step.
package statuspage

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/httpapi"
	"github.com/snapex/snapex/internal/service"
)

//go:embed templates/*.html
var files embed.FS

var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"bytes": func(n int64) string { return humanize.IBytes(uint64(max(n, 0))) },
	"count": func(n int64) string { return humanize.Comma(n) },
	"time":  formatTime,
}).ParseFS(files, "templates/page.html"))

// Page is the /ui handler.
type Page struct {
	Service *service.Service
	// Gate authenticates the caller as the API does.
	Gate httpapi.Gate
	// Projects lists the configured projects; the page shows those the
	// caller may read.
	Projects func() []atlas.Project
	// Refresh is how often the page reloads itself (default 2s).
	Refresh time.Duration
	Log     *slog.Logger
}

// Most recent items shown per cluster.
const (
	snapshotsShown = 20
	exportsShown   = 50
)

// ServeHTTP renders the page for an authenticated caller.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	caller, aerr := p.Gate.Authenticate(w, r)
	if aerr != nil {
		if aerr.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			p.Gate.Challenge(w.Header())
		}
		http.Error(w, aerr.Detail, aerr.Status)
		return
	}
	httpapi.NoteCaller(r.Context(), caller.ID())
	v, err := p.view(r.Context(), caller)
	if err != nil {
		p.log().ErrorContext(r.Context(), "status page", "err", err)
		http.Error(w, "the status page could not be built; see the server log", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		p.log().ErrorContext(r.Context(), "render status page", "err", err)
		http.Error(w, "the status page could not be rendered; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (p *Page) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// view gathers what the caller may see.
func (p *Page) view(ctx context.Context, caller httpapi.Caller) (*pageView, error) {
	refresh := p.Refresh
	if refresh <= 0 {
		refresh = 2 * time.Second
	}
	v := &pageView{Caller: caller.ID(), Now: time.Now().UTC(), RefreshSeconds: max(int(refresh.Seconds()), 1)}
	for _, proj := range p.Projects() {
		// Each section needs the role its API operation needs.
		if caller.Authorize(atlas.OpListClusters, proj) != nil {
			continue
		}
		can := access{
			snapshots: caller.Authorize(atlas.OpListBackupSnapshots, proj) == nil,
			exports:   caller.Authorize(atlas.OpListBackupExports, proj) == nil,
		}
		pv, err := p.project(ctx, proj, can)
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", proj.ID, err)
		}
		v.Projects = append(v.Projects, pv)
	}
	return v, nil
}
