package atlas

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoErrorsBuiltOutsideAtlas walks the module's non-test Go files
// outside this package and fails on an *Error composed by hand (which
// would pick its own status) and on an errorCode spelt as a string literal
// (which a typo would break silently): both go through this package's
// constructors and Code constants.
func TestNoErrorsBuiltOutsideAtlas(t *testing.T) {
	codes := map[string]bool{}
	for _, c := range declaredCodes(t) {
		codes[string(c)] = true
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	self, _ := filepath.Abs(".")
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == self || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if isAtlasError(n.Type) {
					t.Errorf("%s: *atlas.Error composed by hand; use an atlas constructor", fset.Position(n.Pos()))
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "new" && len(n.Args) == 1 && isAtlasError(n.Args[0]) {
					t.Errorf("%s: new(atlas.Error); use an atlas constructor", fset.Position(n.Pos()))
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil && codes[s] {
						t.Errorf("%s: errorCode %s spelt as a literal; use the atlas.Code constant", fset.Position(n.Pos()), s)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files under %s; the walk went wrong", checked, root)
	}
}

func isAtlasError(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "atlas" && sel.Sel.Name == "Error"
}
