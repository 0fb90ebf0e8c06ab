package httpapi

import (
	"context"
	"sync/atomic"
)

// The access log is written by Instrument, outside the route that
// authenticates the caller; a slot in the request's context carries the
// caller's name back out so every request line says who made it (the
// audit trail of who created, cancelled or deleted what).

type callerSlotKey struct{}

type callerSlot struct{ id atomic.Pointer[string] }

// withCallerSlot returns ctx with an empty slot and the slot.
func withCallerSlot(ctx context.Context) (context.Context, *callerSlot) {
	s := &callerSlot{}
	return context.WithValue(ctx, callerSlotKey{}, s), s
}

// NoteCaller records who made the request ctx belongs to, for the access
// log; handlers mounted beside the API (the status page) call it after
// authenticating.
func NoteCaller(ctx context.Context, id string) {
	if s, ok := ctx.Value(callerSlotKey{}).(*callerSlot); ok {
		s.id.Store(&id)
	}
}

// caller is the recorded caller, "" when none was authenticated.
func (s *callerSlot) caller() string {
	if p := s.id.Load(); p != nil {
		return *p
	}
	return ""
}
