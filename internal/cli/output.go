package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"
)

// printer writes a command's result in the --output format: a table by
// default (a text template rendered through a tab writer, like the Atlas
// CLI's text output), json, go-template=TEMPLATE or go-template-file=FILE.
type printer struct {
	format string
	out    io.Writer
}

// templateFuncs help the built-in tables print the SDK's optional fields.
var templateFuncs = template.FuncMap{
	// val prints an optional value, or nothing when it is unset.
	"val": func(v any) string {
		switch x := v.(type) {
		case *string:
			if x != nil {
				return *x
			}
		case *int:
			if x != nil {
				return fmt.Sprint(*x)
			}
		case *int64:
			if x != nil {
				return fmt.Sprint(*x)
			}
		case *bool:
			if x != nil {
				return fmt.Sprint(*x)
			}
		case string:
			return x
		case nil:
		default:
			return fmt.Sprint(x)
		}
		return ""
	},
	// when prints an optional time in UTC to the second.
	"when": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
}

// validateFormat rejects an unknown --output before any request is made.
func validateFormat(format string) error {
	switch {
	case format == "", format == "json",
		strings.HasPrefix(format, "go-template="), strings.HasPrefix(format, "go-template-file="):
		return nil
	}
	return fmt.Errorf("unsupported --output %q: use json, go-template=TEMPLATE or go-template-file=FILE (or leave it out for a table)", format)
}

// print renders v; table is the default text template.
func (p printer) print(v any, table string) error {
	switch {
	case p.format == "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		_, err = fmt.Fprintf(p.out, "%s\n", b)
		return err
	case strings.HasPrefix(p.format, "go-template="):
		return p.template(strings.TrimPrefix(p.format, "go-template="), v, false)
	case strings.HasPrefix(p.format, "go-template-file="):
		path := strings.TrimPrefix(p.format, "go-template-file=")
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		return p.template(string(b), v, false)
	case p.format == "":
		return p.template(table, v, true)
	}
	return validateFormat(p.format)
}

func (p printer) template(text string, v any, aligned bool) error {
	tpl, err := template.New("output").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return fmt.Errorf("--output template: %w", err)
	}
	w := p.out
	var tw *tabwriter.Writer
	if aligned {
		tw = tabwriter.NewWriter(p.out, 6, 4, 3, ' ', 0)
		w = tw
	}
	if err := tpl.Execute(w, v); err != nil {
		return fmt.Errorf("--output template: %w", err)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}
