package restore

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report says what a restore did, namespace by namespace.
type Report struct {
	// Run is the restore's id in the progress store.
	Run string `json:"run"`
	// Problems are what the export lacked (restores with AllowIncomplete).
	Problems   []string          `json:"problems,omitempty"`
	Namespaces []NamespaceReport `json:"namespaces"`
	// Mismatches counts namespaces whose document count differs.
	Mismatches int `json:"mismatches"`
}

// Namespace statuses in a report.
const (
	StatusComplete   = "complete"
	StatusPartial    = "partial"
	StatusFailed     = "failed"
	StatusNotStarted = "not started"
)

// NamespaceReport is one namespace's outcome.
type NamespaceReport struct {
	Source string `json:"source"`
	Target string `json:"target"`
	// Status is StatusComplete, StatusPartial (created, some files
	// loaded), StatusFailed (stopped on Error) or StatusNotStarted.
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	Files     int    `json:"files"`
	FilesDone int    `json:"filesDone"`
	// Docs is how many documents of the export were handled; when all
	// files are done it is the export's count for the namespace.
	Docs int64 `json:"docs"`
	// Duplicates were skipped or replaced by the duplicate policy.
	Duplicates int64 `json:"duplicates"`
	// PreCount is what the target held before the restore.
	PreCount int64 `json:"preCount"`
	// Expected is PreCount + Docs - Duplicates; Counted is what the
	// target holds (-1 when not counted).
	Expected int64 `json:"expected"`
	Counted  int64 `json:"counted"`
}

// summarize builds the per-namespace part of a report from the progress.
func summarize(plan []*planned, st *State) []NamespaceReport {
	out := make([]NamespaceReport, 0, len(plan))
	for _, p := range plan {
		nr := NamespaceReport{Source: p.ns.Name(), Target: p.target, Files: len(p.ns.Files), Counted: -1, Status: StatusNotStarted}
		for _, f := range p.ns.Files {
			fr := st.Files[f.Key]
			nr.Docs += fr.Docs
			nr.Duplicates += fr.Duplicates
			if fr.Done {
				nr.FilesDone++
			}
		}
		if rec, ok := st.Namespaces[p.ns.Name()]; ok {
			nr.PreCount, nr.Error = rec.PreCount, rec.Error
			switch rec.Phase {
			case PhaseIndexed:
				nr.Status = StatusComplete
			case PhaseFailed:
				nr.Status = StatusFailed
			default:
				nr.Status = StatusPartial
			}
		}
		nr.Expected = nr.PreCount + nr.Docs - nr.Duplicates
		out = append(out, nr)
	}
	return out
}

// verify counts every namespace's documents in the target (cheaply where
// the server's recorded count agrees, exactly otherwise) and compares
// them with the export's figures (the documents read from its data files,
// recorded per file) adjusted for what the target held before and the
// duplicates the policy handled. Atlas's .complete and metadata.json carry
// no per-collection counts, so the data files themselves are the export's
// figures; .complete's totalFiles is checked by Scan.
func (r *runner) verify(ctx context.Context, rep *Report) error {
	var diffs []string
	for i := range rep.Namespaces {
		nr := &rep.Namespaces[i]
		tdb, tcoll, _ := strings.Cut(nr.Target, ".")
		n, err := countDocuments(ctx, r.e.Client.Database(tdb).Collection(tcoll), nr.Expected, r.o.ExactCount)
		if err != nil {
			return err
		}
		nr.Counted = n
		if n != nr.Expected {
			rep.Mismatches++
			diffs = append(diffs, fmt.Sprintf("%s holds %d documents, expected %d (%d before + %d exported in %s - %d duplicates)",
				nr.Target, n, nr.Expected, nr.PreCount, nr.Docs, nr.Source, nr.Duplicates))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("document counts differ in %d namespaces: %s", len(diffs), strings.Join(diffs, "; "))
	}
	return nil
}

// Write prints the report as a table.
func (rep *Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tTARGET\tSTATUS\tFILES\tDOCUMENTS\tDUPLICATES\tEXPECTED\tCOUNTED")
	for _, nr := range rep.Namespaces {
		counted := "-"
		if nr.Counted >= 0 {
			counted = fmt.Sprint(nr.Counted)
			if nr.Counted != nr.Expected {
				counted += " (differs)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%s\n", nr.Source, nr.Target, nr.Status, nr.FilesDone, nr.Files, nr.Docs, nr.Duplicates, nr.Expected, counted)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, nr := range rep.Namespaces {
		if nr.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", nr.Source, nr.Error)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "export problem: %s\n", p)
	}
	return nil
}
