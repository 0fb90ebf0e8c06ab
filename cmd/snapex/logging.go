package main

import (
	"context"
	"io"
	"log/slog"
)

// newLogger is the process's JSON logger at level INFO. Durations are
// written as Go duration strings ("1.5s", "2m0s") instead of slog's
// integer nanoseconds, so a log reader sees how long things took.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: humanDurations}))
}

// humanDurations rewrites every time.Duration attribute as its string.
func humanDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// riverLogger is log for the River queue: River reports its routine work
// (starting, stopping, elections) at INFO, which would drown snapex's own
// lines, so its records below WARN are demoted to DEBUG.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(demoted{log.Handler()})
}

// demoted lowers records below WARN to DEBUG before handing them on.
type demoted struct{ next slog.Handler }

func (d demoted) lower(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (d demoted) Enabled(ctx context.Context, l slog.Level) bool {
	return d.next.Enabled(ctx, d.lower(l))
}

func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	r.Level = d.lower(r.Level)
	return d.next.Handle(ctx, r)
}

func (d demoted) WithAttrs(as []slog.Attr) slog.Handler { return demoted{d.next.WithAttrs(as)} }
func (d demoted) WithGroup(g string) slog.Handler       { return demoted{d.next.WithGroup(g)} }
