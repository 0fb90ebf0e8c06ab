package restore

import (
	"context"
	"sync"
	"time"
)

// Progress records a restore's progress so that a restore stopped at any
// point (SIGKILL included) continues where it left off. Records are keyed
// by run, the id of one restore of one export with one set of namespace
// options (see RunID). Every Save must be durable when it returns.
//
// The CLI keeps progress in the target cluster ([MongoProgress]); a
// server-side job can keep it in its own store.
type Progress interface {
	// Load returns everything recorded for run; an empty State when
	// nothing is.
	Load(ctx context.Context, run string) (*State, error)
	// SaveRun records the run's settings and status.
	SaveRun(ctx context.Context, run string, r RunRecord) error
	// SaveNamespace records one namespace's phase.
	SaveNamespace(ctx context.Context, run string, n NamespaceRecord) error
	// SaveFile records how much of one data file is in the target.
	SaveFile(ctx context.Context, run string, f FileRecord) error
	// Clear forgets everything recorded for run.
	Clear(ctx context.Context, run string) error
}

// State is everything recorded for a run.
type State struct {
	// Run is nil when the run was never started.
	Run        *RunRecord
	Namespaces map[string]NamespaceRecord // by source namespace
	Files      map[string]FileRecord      // by data file key
}

// RunRecord describes a run.
type RunRecord struct {
	// Source names the export (bucket and prefix) for people.
	Source string `bson:"source"`
	// BatchDocs and BatchBytes are the batch limits the run started with;
	// a resumed run reuses them so that its batches fall where the
	// interrupted run's did.
	BatchDocs  int       `bson:"batchDocs"`
	BatchBytes int       `bson:"batchBytes"`
	Started    time.Time `bson:"started"`
	// Status is RunRunning, RunFailed or RunDone.
	Status string    `bson:"status"`
	Error  string    `bson:"error,omitempty"`
	Ended  time.Time `bson:"ended,omitzero"`
}

// Run statuses.
const (
	RunRunning = "running"
	RunFailed  = "failed"
	RunDone    = "done"
)

// Phase is how far a namespace got.
type Phase string

// Namespace phases, in order.
const (
	// PhaseCreated: the target collection exists with its options
	// (dropped first with Drop); documents are being loaded.
	PhaseCreated Phase = "created"
	// PhaseLoaded: every data file is in the target.
	PhaseLoaded Phase = "loaded"
	// PhaseIndexed: indexes are built; the namespace is complete.
	PhaseIndexed Phase = "indexed"
	// PhaseFailed: loading stopped on the error recorded with it; the
	// collection holds part of the data.
	PhaseFailed Phase = "failed"
)

// NamespaceRecord is one namespace's progress.
type NamespaceRecord struct {
	Source string `bson:"source"`
	Target string `bson:"target"`
	Phase  Phase  `bson:"phase"`
	// PreCount is how many documents the target collection held before
	// the first document was loaded (0 after a drop).
	PreCount int64  `bson:"preCount"`
	Error    string `bson:"error,omitempty"`
}

// FileRecord is one data file's progress.
type FileRecord struct {
	Key string `bson:"key"`
	// Namespace is the file's source namespace.
	Namespace string `bson:"ns"`
	// Docs is how many of the file's documents, from its start, are done
	// (inserted, or handled by the duplicate policy).
	Docs int64 `bson:"docs"`
	// Duplicates counts documents whose _id was already in the target
	// and that the policy skipped or replaced.
	Duplicates int64 `bson:"duplicates"`
	// Done is true once the whole file is done; Docs is then its count.
	Done bool `bson:"done"`
}

// MemoryProgress keeps progress in memory (tests, and callers that do not
// need to survive a restart).
type MemoryProgress struct {
	mu    sync.Mutex
	state map[string]*State
}

func (m *MemoryProgress) get(run string) *State {
	if m.state == nil {
		m.state = map[string]*State{}
	}
	s := m.state[run]
	if s == nil {
		s = &State{Namespaces: map[string]NamespaceRecord{}, Files: map[string]FileRecord{}}
		m.state[run] = s
	}
	return s
}

// Load implements Progress.
func (m *MemoryProgress) Load(_ context.Context, run string) (*State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.get(run)
	out := &State{Namespaces: map[string]NamespaceRecord{}, Files: map[string]FileRecord{}}
	if s.Run != nil {
		r := *s.Run
		out.Run = &r
	}
	for k, v := range s.Namespaces {
		out.Namespaces[k] = v
	}
	for k, v := range s.Files {
		out.Files[k] = v
	}
	return out, nil
}

// SaveRun implements Progress.
func (m *MemoryProgress) SaveRun(_ context.Context, run string, r RunRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(run).Run = &r
	return nil
}

// SaveNamespace implements Progress.
func (m *MemoryProgress) SaveNamespace(_ context.Context, run string, n NamespaceRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(run).Namespaces[n.Source] = n
	return nil
}

// SaveFile implements Progress.
func (m *MemoryProgress) SaveFile(_ context.Context, run string, f FileRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(run).Files[f.Key] = f
	return nil
}

// Clear implements Progress.
func (m *MemoryProgress) Clear(_ context.Context, run string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.state, run)
	return nil
}
