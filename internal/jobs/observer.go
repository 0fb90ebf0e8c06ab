package jobs

import "time"

// Outcome is how a job ended.
type Outcome string

// Job outcomes.
const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Cancelled Outcome = "cancelled"
)

// Observer is told what the runner does with jobs (metrics). Calls come
// from the goroutines that work the jobs and must not block.
type Observer interface {
	// AttemptStarted is called when attempt n of a job begins.
	AttemptStarted(kind, id string, n int)
	// AttemptFailed is called when attempt n failed with err after took;
	// code classifies err (Kind.Code) and final says the job ends Failed.
	AttemptFailed(kind, id string, n int, code string, final bool, took time.Duration)
	// JobEnded is called once a job's terminal state is recorded; took is
	// how long this process worked it, attempts and waits between them.
	JobEnded(kind, id string, outcome Outcome, took time.Duration)
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) AttemptStarted(string, string, int)                             {}
func (nopObserver) AttemptFailed(string, string, int, string, bool, time.Duration) {}
func (nopObserver) JobEnded(string, string, Outcome, time.Duration)                {}

func (r *Runner) observer() Observer {
	if r.Observer != nil {
		return r.Observer
	}
	return nopObserver{}
}

// code classifies a failed attempt's error for k.
func (k *Kind) code(err error) string {
	if k.Code != nil {
		if c := k.Code(err); c != "" {
			return c
		}
	}
	return "UNCLASSIFIED"
}
