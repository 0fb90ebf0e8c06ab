package httpapi

import (
	"net/http"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/auth"
)

// AuthGate adapts an auth.Authenticator (digest API keys, OAuth bearer
// tokens, Atlas roles) to the Gate the routes use.
func AuthGate(a *auth.Authenticator) Gate { return authGate{a} }

type authGate struct{ a *auth.Authenticator }

func (g authGate) Authenticate(w http.ResponseWriter, r *http.Request) (Caller, *atlas.Error) {
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

func (c authCaller) Authorize(operation string, project atlas.Project) *atlas.Error {
	return c.a.Authorize(c.p, operation, project)
}
