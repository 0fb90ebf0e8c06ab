// Package jobstest helps tests of leased jobs check what the runner logged.
package jobstest

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Logs collects the text log of several runners working at once.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Logger returns a logger writing into l.
func (l *Logs) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Count returns how many log lines carry exactly the message msg.
func (l *Logs) Count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), fmt.Sprintf("msg=%q", msg))
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
