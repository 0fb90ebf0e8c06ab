package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/snapex/snapex/internal/manifest"
	"github.com/spf13/cobra"
)

func verifyCommand() *cobra.Command {
	var asJSON bool
	var source sourceFlags
	cmd := &cobra.Command{
		Use:   "verify <export URL>",
		Short: "Check an export's files against its manifest (or, without one, against .complete and metadata.json)",
		Long: "Checks every file of an export: with a manifest (Parquet exports, or snapexOptions.manifest), each file's\n" +
			"presence, size and SHA-256, that nothing unlisted is present, that document counts add up to the\n" +
			"snapshot's, and that the manifest is the one .complete records. Without a manifest (plain snapex or\n" +
			"Atlas exports): totalFiles, chunk numbering, every gzip stream whole with one JSON document per line,\n" +
			"every metadata.json parseable. Reports per file; exits non-zero when anything is wrong.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			b, prefix, err := source.open(ctx, args[0])
			if err != nil {
				return err // names the source already
			}
			defer b.Close()
			rep, err := manifest.Verify(ctx, b, prefix)
			if err != nil {
				return fmt.Errorf("verify %s: %w", args[0], err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printReport(out, rep)
			}
			if !rep.OK() {
				return fmt.Errorf("%s: %w", args[0], manifest.ErrFailed)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	source.addFlags(cmd)
	return cmd
}

func printReport(w interface{ Write([]byte) (int, error) }, rep *manifest.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tFILE\tSIZE\tDOCUMENTS\tPROBLEM")
	bad := 0
	for _, f := range rep.Files {
		status := "ok"
		if !f.OK {
			status, bad = "FAIL", bad+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", status, f.Key, f.Size, f.Documents, f.Problem)
	}
	tw.Flush()
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "FAIL  %s\n", p)
	}
	how := "against .complete and metadata.json (no manifest)"
	if rep.WithManifest {
		how = "against the manifest"
	}
	verdict := "verified"
	if !rep.OK() {
		verdict = fmt.Sprintf("FAILED (%d file(s), %d other problem(s))", bad, len(rep.Problems))
	}
	fmt.Fprintf(w, "%d file(s) checked %s: %s\n", len(rep.Files), how, strings.TrimSpace(verdict))
}
