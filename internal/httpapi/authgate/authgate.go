// Package authgate adapts an auth.Authenticator (digest API keys, OAuth
// bearer tokens, Atlas roles) to the httpapi.Gate the routes use. It lives
// apart from httpapi so that the HTTP layer does not depend on the
// authenticator's storage.
package authgate

import (
	"net/http"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/auth"
	"github.com/snapex/snapex/internal/httpapi"
)

// New adapts a to the httpapi.Gate interface.
func New(a *auth.Authenticator) httpapi.Gate { return authGate{a} }

type authGate struct{ a *auth.Authenticator }

func (g authGate) Authenticate(w http.ResponseWriter, r *http.Request) (httpapi.Caller, *atlas.Error) {
	p, err := g.a.Authenticate(w, r)
	if err != nil {
		return nil, err
	}
	return authCaller{a: g.a, p: p}, nil
}

func (g authGate) Challenge(h http.Header) { g.a.Challenge(h) }

type authCaller struct {
	a *auth.Authenticator
	p *auth.Principal
}

func (c authCaller) ID() string { return c.p.Kind + ":" + c.p.ID }

func (c authCaller) Authorize(operation atlas.Operation, project atlas.Project) *atlas.Error {
	return c.a.Authorize(c.p, operation, project)
}
