package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The codes clients may see: exactly these, no more and no fewer.
var contractCodes = []string{
	"missing_token", "invalid_token", "bad_request", "malformed_id", "not_found",
	"video_not_found", "rendition_not_available", "unknown_quality", "file_too_large",
	"unsupported_type", "empty_file", "upload_interrupted", "upload_expired", "method_not_allowed",
	"storage_full", "storage_unavailable", "too_many_uploads", "transcoder_off",
	"original_gone", "upload_not_found", "offset_mismatch", "upload_locked", "internal",
}

func TestCodesAreTheContracts(t *testing.T) {
	var got []string
	for _, c := range Codes {
		got = append(got, string(c))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(contractCodes))
	if !slices.Equal(got, want) {
		t.Errorf("Codes: got %v, want %v", got, want)
	}
}

// Every place in the package that builds an API error gives it one of the
// codes: each errorf call and each Error literal names a Code constant that
// is in Codes.
func TestEveryErrorHasACode(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range Codes {
		listed[string(c)] = true
	}
	// The constants' names and values, from codes.go.
	consts := map[string]string{}
	built := 0
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Code") {
							consts[n.Name] = strings.Trim(lit.Value, `"`)
						}
					}
				}
			}
		}
	}
	checkCode := func(pos token.Pos, what string, e ast.Expr) {
		built++
		id, ok := e.(*ast.Ident)
		if !ok || !listed[consts[id.Name]] {
			t.Errorf("%s: %s without a listed Code constant (got %v)", fset.Position(pos), what, e)
		}
	}
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				return n.Name.Name != "errorf" // its callers give the code
			case *ast.CallExpr:
				if fn, ok := n.Fun.(*ast.Ident); ok && fn.Name == "errorf" {
					checkCode(n.Pos(), "errorf", n.Args[1])
				}
			case *ast.CompositeLit:
				if typ, ok := n.Type.(*ast.Ident); ok && typ.Name == "Error" {
					var code ast.Expr
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == "Code" {
							code = kv.Value
						}
					}
					checkCode(n.Pos(), "Error literal", code)
				}
			}
			return true
		})
	}
	if built < 20 {
		t.Errorf("found %d errors built; expected the whole package's", built)
	}
}

// openapi.yaml lists the same codes.
func TestOpenAPIListsTheCodes(t *testing.T) {
	doc, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n    Error:\n")
	_, rest, ok2 := strings.Cut(rest, "          enum:\n")
	if !ok || !ok2 {
		t.Fatal("openapi.yaml has no Error schema with a code enum")
	}
	var got []string
	for _, line := range strings.Split(rest, "\n") {
		item, ok := strings.CutPrefix(line, "            - ")
		if !ok {
			break
		}
		got = append(got, item)
	}
	var want []string
	for _, c := range Codes {
		want = append(want, string(c))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("openapi.yaml lists the codes %v, want %v", got, want)
	}
}
