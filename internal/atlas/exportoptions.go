package atlas

import (
	"fmt"
	"strings"
)

// Export output formats (ExportOptions.Format).
const (
	FormatEJSON   = "ejson"
	FormatParquet = "parquet"
)

// Parquet compression codecs (ParquetOptions.Compression).
var parquetCodecs = []string{"zstd", "snappy", "gzip"}

// Bounds of ParquetOptions.RowGroupRows.
const (
	DefaultRowGroupRows = 100_000
	MaxRowGroupRows     = 10_000_000
)

// ExportOptions are snapex's extensions of an export job, sent as
// snapexOptions on the create-export body or inside a backup schedule's
// export policy (then every automatic export job gets them). A job
// without them (nil) is a plain Atlas export.
type ExportOptions struct {
	// Format is ejson (gzipped canonical Extended JSON, Atlas's) or parquet.
	Format string `json:"format"`
	// NSInclude and NSExclude are mongodump --nsInclude/--nsExclude
	// patterns over "db.collection" (see MatchNamespace).
	NSInclude []string `json:"nsInclude,omitempty"`
	NSExclude []string `json:"nsExclude,omitempty"`
	// Manifest asks for manifest.json before .complete; always on for
	// Parquet.
	Manifest bool `json:"manifest"`
	// Parquet holds the Parquet settings; set (with defaults) exactly when
	// Format is parquet.
	Parquet *ParquetOptions `json:"parquet,omitempty"`
}

// ParquetOptions are the settings of Parquet output.
type ParquetOptions struct {
	// Compression is zstd (default), snappy or gzip.
	Compression string `json:"compression"`
	// RowGroupRows caps the rows of a row group (the writer also closes a
	// row group at a fixed amount of buffered input, to bound memory).
	RowGroupRows int `json:"rowGroupRows"`
	// FullDocument adds a _document column holding each whole document as
	// canonical Extended JSON.
	FullDocument bool `json:"fullDocument"`
}

// Normalize fills defaults and validates o in place; errors name the
// field under snapexOptions (the create-export body's attribute).
func (o *ExportOptions) Normalize() *Error {
	return o.NormalizeAt("snapexOptions")
}

// NormalizeAt is Normalize for options sent as the attribute named field
// (export.snapexOptions on a backup schedule), which prefixes the
// attribute names in errors.
func (o *ExportOptions) NormalizeAt(field string) *Error {
	switch o.Format {
	case "":
		o.Format = FormatEJSON
	case FormatEJSON, FormatParquet:
	default:
		return ErrInvalidAttribute(field+".format", o.Format, "ejson or parquet is expected")
	}
	for _, l := range []struct {
		name string
		pats []string
	}{{field + ".nsInclude", o.NSInclude}, {field + ".nsExclude", o.NSExclude}} {
		for _, p := range l.pats {
			if err := ValidateNamespacePattern(p); err != nil {
				return ErrInvalidAttribute(l.name, p, err.Error())
			}
		}
	}
	if o.Format != FormatParquet {
		if o.Parquet != nil {
			return ErrInvalidAttribute(field+".parquet", "", "Parquet settings need format parquet")
		}
		return nil
	}
	o.Manifest = true
	if o.Parquet == nil {
		o.Parquet = &ParquetOptions{}
	}
	p := o.Parquet
	if p.Compression == "" {
		p.Compression = "zstd"
	}
	ok := false
	for _, c := range parquetCodecs {
		ok = ok || p.Compression == c
	}
	if !ok {
		return ErrInvalidAttribute(field+".parquet.compression", p.Compression, "zstd, snappy or gzip is expected")
	}
	if p.RowGroupRows == 0 {
		p.RowGroupRows = DefaultRowGroupRows
	}
	if p.RowGroupRows < 1 || p.RowGroupRows > MaxRowGroupRows {
		return ErrInvalidAttribute(field+".parquet.rowGroupRows", fmt.Sprint(p.RowGroupRows),
			fmt.Sprintf("an integer from 1 to %d is expected", MaxRowGroupRows))
	}
	return nil
}

// ValidateNamespacePattern checks a mongodump namespace pattern: non-empty,
// bounded, without NUL or a dangling escape.
func ValidateNamespacePattern(p string) error {
	if p == "" {
		return fmt.Errorf("a pattern db.collection is expected")
	}
	if strings.ContainsRune(p, 0) {
		return fmt.Errorf("a pattern cannot contain NUL")
	}
	if len(p) > 512 {
		return fmt.Errorf("a pattern is at most 512 bytes")
	}
	esc := false
	for i := 0; i < len(p); i++ {
		if esc {
			esc = false
			continue
		}
		if p[i] == '\\' {
			esc = true
		}
	}
	if esc {
		return fmt.Errorf("the pattern ends in an unfinished \\ escape")
	}
	return nil
}

// MatchNamespace reports whether namespace ns ("db.coll") matches a
// mongodump pattern: * matches any run of characters (dots included),
// \ makes the next character literal, everything else matches itself.
func MatchNamespace(pattern, ns string) bool {
	// Iterative glob with one backtrack point: linear in practice and
	// without the regexp compilation mongo-tools does per pattern.
	p, s := 0, 0
	starP, starS := -1, 0
	for s < len(ns) {
		if p < len(pattern) {
			c := pattern[p]
			switch {
			case c == '*':
				starP, starS = p, s
				p++
				continue
			case c == '\\' && p+1 < len(pattern):
				if pattern[p+1] == ns[s] {
					p += 2
					s++
					continue
				}
			case c == ns[s]:
				p++
				s++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		p, s = starP+1, starS
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// SelectsNamespace reports whether o exports namespace ns: it matches an
// include pattern (or there are none) and no exclude pattern. A nil o
// selects everything.
func (o *ExportOptions) SelectsNamespace(ns string) bool {
	if o == nil {
		return true
	}
	in := len(o.NSInclude) == 0
	for _, p := range o.NSInclude {
		in = in || MatchNamespace(p, ns)
	}
	if !in {
		return false
	}
	for _, p := range o.NSExclude {
		if MatchNamespace(p, ns) {
			return false
		}
	}
	return true
}

// Extension is the suffix of the data files of the format.
func (o *ExportOptions) Extension() string {
	if o != nil && o.Format == FormatParquet {
		return ".parquet"
	}
	return ".json.gz"
}
