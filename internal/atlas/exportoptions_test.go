package atlas

import "testing"

func TestMatchNamespace(t *testing.T) {
	cases := []struct {
		pattern, ns string
		want        bool
	}{
		{"shop.orders", "shop.orders", true},
		{"shop.orders", "shop.order", false},
		{"shop.*", "shop.orders", true},
		{"shop.*", "shop.", true},
		{"shop.*", "shopx.orders", false},
		{"*.orders", "a.b.orders", true},
		{"*", "anything.at.all", true},
		{"s*p.o*s", "shop.orders", true},
		{"s*p.o*s", "shop.ordersx", false},
		{"*.tmp*", "crm.tmp_1", true},
		{`shop.a\*b`, "shop.a*b", true},
		{`shop.a\*b`, "shop.axb", false},
		{`shop.\\`, `shop.\`, true},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	}
	for _, c := range cases {
		if got := MatchNamespace(c.pattern, c.ns); got != c.want {
			t.Errorf("MatchNamespace(%q, %q) = %v, want %v", c.pattern, c.ns, got, c.want)
		}
	}
}

func TestSelectsNamespace(t *testing.T) {
	o := &ExportOptions{NSInclude: []string{"shop.*", "crm.people"}, NSExclude: []string{"shop.c*"}}
	for ns, want := range map[string]bool{"shop.orders": true, "shop.carts": false, "crm.people": true, "crm.audit": false} {
		if got := o.SelectsNamespace(ns); got != want {
			t.Errorf("%s: %v, want %v", ns, got, want)
		}
	}
	exclude := &ExportOptions{NSExclude: []string{"*.log"}}
	if !exclude.SelectsNamespace("a.b") || exclude.SelectsNamespace("a.log") {
		t.Error("exclude alone selects everything else")
	}
	var none *ExportOptions
	if !none.SelectsNamespace("a.b") {
		t.Error("no options select everything")
	}
}

func TestNormalizeExportOptions(t *testing.T) {
	o := &ExportOptions{Format: FormatParquet}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	if !o.Manifest || o.Parquet == nil || o.Parquet.Compression != "zstd" || o.Parquet.RowGroupRows != DefaultRowGroupRows {
		t.Fatalf("parquet defaults: %+v %+v", o, o.Parquet)
	}
	e := &ExportOptions{}
	if err := e.Normalize(); err != nil || e.Format != FormatEJSON || e.Manifest || e.Parquet != nil {
		t.Fatalf("ejson defaults: %+v %v", e, err)
	}
	bad := &ExportOptions{Format: FormatParquet, Parquet: &ParquetOptions{RowGroupRows: MaxRowGroupRows + 1}}
	if err := bad.Normalize(); err == nil || err.Params[0] != "snapexOptions.parquet.rowGroupRows" {
		t.Fatalf("row groups over the bound: %v", err)
	}
}
