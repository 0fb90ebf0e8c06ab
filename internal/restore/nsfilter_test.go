package restore

import (
	"strings"
	"testing"
)

func TestNamespaceMapping(t *testing.T) {
	m, err := newMapper(NamespaceOptions{
		Include: []string{"app.*", "shop.orders", `odd.star\*`},
		Exclude: []string{"app.tmp*"},
		From:    []string{"app.users", "app.$coll$", "shop.$c$"},
		To:      []string{"accounts.people", "app_copy.$coll$", "store_$c$.$c$"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"app.users":        "accounts.people",
		"app.orders.2024":  "app_copy.orders.2024",
		"app.tmpfoo":       "",
		"shop.orders":      "store_orders.orders",
		"shop.items":       "",
		"odd.star*":        "odd.star*",
		"odd.starx":        "",
		"other.app.things": "",
	}
	for in, want := range cases {
		got, ok := m.Map(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("Map(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []NamespaceOptions{
		{From: []string{"a.$x$"}, To: []string{"b.$y$"}},
		{From: []string{"a.$x"}, To: []string{"b.x"}},
		{From: []string{"a.x"}},
		{Include: []string{`a.\`}},
		{From: []string{"a.$x$.$x$"}, To: []string{"b.$x$"}},
	} {
		if _, err := newMapper(bad); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
}

func TestSplitter(t *testing.T) {
	in := "{\"a\":1}\n\n  {\"b\":\"}{\\\"\",\n \"c\":[{\"d\":2}]}\r\n{\"e\":{}}"
	sp := newSplitter(strings.NewReader(in))
	var docs []string
	var lines []int
	for {
		d, line, err := sp.next()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatal(err)
			}
			break
		}
		docs = append(docs, string(d))
		lines = append(lines, line)
	}
	want := []string{`{"a":1}`, "{\"b\":\"}{\\\"\",\n \"c\":[{\"d\":2}]}", `{"e":{}}`}
	if strings.Join(docs, "|") != strings.Join(want, "|") || len(lines) != 3 || lines[0] != 1 || lines[1] != 3 || lines[2] != 5 {
		t.Fatalf("documents %q at lines %v", docs, lines)
	}
	for in, want := range map[string]string{
		"{\"a\":1}\nx":     "unexpected 'x' between documents",
		"{\"a\":\"x":       "input ends inside a document",
		"{\"a\":\"x\ny\"}": "line break inside a string",
	} {
		sp := newSplitter(strings.NewReader(in))
		var err error
		for err == nil {
			_, _, err = sp.next()
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}
