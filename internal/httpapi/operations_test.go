package httpapi

import (
	"slices"
	"testing"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/auth"
)

// TestRoutesAndRolesCoverTheSameOperations checks that every route's
// operation has a role in auth's table and every role-table operation is
// served by exactly one route, and that both are atlas.Operations.
func TestRoutesAndRolesCoverTheSameOperations(t *testing.T) {
	var routed []atlas.Operation
	for _, rt := range routes {
		if slices.Contains(routed, rt.op) {
			t.Errorf("operation %s is served by two routes", rt.op)
		}
		routed = append(routed, rt.op)
		if _, ok := auth.RequiredRole(rt.op); !ok {
			t.Errorf("route %s %s (%s) has no entry in the role table", rt.method, rt.pattern, rt.op)
		}
	}
	for _, op := range auth.Operations() {
		if !slices.Contains(routed, op) {
			t.Errorf("role table lists %s, which no route serves", op)
		}
	}
	want := atlas.Operations()
	slices.Sort(want)
	slices.Sort(routed)
	if !slices.Equal(routed, want) {
		t.Errorf("routes serve %v\natlas.Operations() = %v", routed, want)
	}
}
