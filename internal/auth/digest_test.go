package auth

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	idigest "github.com/icholy/digest"
	fdigest "github.com/mongodb-forks/digest"
	"github.com/snapex/snapex/internal/atlas"
)

const groupPath = "/api/atlas/v2/groups/" + projA1 + "/clusters"

// clients are the two independent digest implementations the tests drive.
var clients = map[string]func(user, pass string) *http.Client{
	// The Atlas SDK's own digest transport: one challenge per request.
	"mongodb-forks": func(user, pass string) *http.Client {
		return &http.Client{Transport: fdigest.NewTransport(user, pass)}
	},
	// A second implementation that caches the challenge and counts nc up.
	"icholy": func(user, pass string) *http.Client {
		return &http.Client{Transport: &idigest.Transport{Username: user, Password: pass}}
	},
}

func TestChallengeIsAtlasForm(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	resp, _, ae := get(t, http.DefaultClient, clustersURL(e, projA1))
	assertNotAuthenticated(t, resp, ae)
	n1, stale := challengeOf(t, resp)
	if stale {
		t.Fatal("stale=true on a request without credentials")
	}
	if !strings.HasSuffix(resp.Header.Get("WWW-Authenticate"), "algorithm=MD5, qop=\"auth\", stale=false") {
		t.Fatalf("default challenge = %q", resp.Header.Get("WWW-Authenticate"))
	}
	resp, _, _ = get(t, http.DefaultClient, clustersURL(e, projA1))
	if n2, _ := challengeOf(t, resp); n2 == n1 {
		t.Fatal("two challenges carried the same nonce")
	}
	// Other schemes and garbage get the same 401 and a challenge.
	for _, h := range []string{"Basic cmVhZG9ubHk6eA==", "Digest", "Digest username=", "Bearer", "Bearer !!", "Negotiate abc", "Digest a=b, a=c"} {
		resp, _, ae := get(t, http.DefaultClient, clustersURL(e, projA1), "Authorization", h)
		assertNotAuthenticated(t, resp, ae)
	}
}

func TestDigestClients(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		for _, alg := range []string{"MD5", "SHA-256"} {
			e := start(t, dsn, Options{ChallengeAlgorithm: alg})
			for name, newClient := range clients {
				t.Run(alg+"/"+name, func(t *testing.T) {
					k := keyByName(t, "readonly")
					c := newClient(k.public, k.private)
					for i := 0; i < 3; i++ {
						resp, ok, ae := get(t, c, clustersURL(e, projA1))
						if resp.StatusCode != http.StatusOK {
							t.Fatalf("request %d: %d %+v", i, resp.StatusCode, ae)
						}
						if ok.Kind != KindAPIKey || ok.ID != "readonly" {
							t.Fatalf("principal = %+v", ok)
						}
					}
					// A body survives the challenge round trip (the client
					// sends it twice; the server reads only the second).
					mgr := keyByName(t, "managerk")
					c = newClient(mgr.public, mgr.private)
					body := `{"description":"on demand","retentionInDays":1}`
					req, _ := http.NewRequest(http.MethodPost, e.srv.URL+groupPath+"/Cluster0/backup/snapshots", strings.NewReader(body))
					req.Header.Set(testOperationHeader, string(atlas.OpTakeSnapshots))
					resp, ok, ae := do(t, c, req)
					if resp.StatusCode != http.StatusOK || ok.Body != body || ok.ID != "managerk" {
						t.Fatalf("POST: %d %+v %+v", resp.StatusCode, ok, ae)
					}
					// Wrong private key: 401 with the Atlas body, through the client.
					c = newClient(k.public, k.private+"x")
					resp, _, ae = get(t, c, clustersURL(e, projA1))
					assertNotAuthenticated(t, resp, ae)
					// Unknown public key.
					c = newClient("nosuchky", k.private)
					resp, _, ae = get(t, c, clustersURL(e, projA1))
					assertNotAuthenticated(t, resp, ae)
				})
			}
		}
	})
}

func TestIcholyReusesNonceWithIncreasingCount(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	k := keyByName(t, "readonly")
	c := clients["icholy"](k.public, k.private)
	for i := 0; i < 5; i++ {
		if resp, _, ae := get(t, c, clustersURL(e, projA1)); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %+v", i, resp.StatusCode, ae)
		}
	}
	// One challenge, then nc=2..5 on the same nonce.
	if n := e.challenges.Load(); n != 1 {
		t.Fatalf("%d challenges sent, want 1 (the cached nonce should be reused)", n)
	}
}

func TestSHA256ResponseToMD5Challenge(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	k := keyByName(t, "readonly")
	for _, alg := range []string{"SHA-256", "sha-256", "MD5-sess", "SHA-256-sess"} {
		n := fetchNonce(t, e)
		uri := groupPath + "?pretty=false&itemsPerPage=5"
		h := digestParams{user: k.public, pass: k.private, method: "GET", uri: uri, nonce: n, alg: alg, nc: 1}.header()
		resp, ok, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", h)
		if resp.StatusCode != http.StatusOK || ok.ID != k.public {
			t.Fatalf("%s: %d %+v", alg, resp.StatusCode, ae)
		}
	}
}

func TestReplayedNonceCountRejected(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		a := start(t, dsn, Options{})
		b := a.replica(Options{})
		k := keyByName(t, "readonly")
		uri := groupPath + "?pretty=false&itemsPerPage=5"
		n := fetchNonce(t, a)
		send := func(e *env, nc uint32) (*http.Response, apiError) {
			h := digestParams{user: k.public, pass: k.private, method: "GET", uri: uri, nonce: n, nc: nc}.header()
			resp, _, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", h)
			return resp, ae
		}
		if resp, ae := send(a, 1); resp.StatusCode != http.StatusOK {
			t.Fatalf("first use: %d %+v", resp.StatusCode, ae)
		}
		resp, ae := send(a, 1)
		assertNotAuthenticated(t, resp, ae)
		if _, stale := challengeOf(t, resp); stale {
			t.Fatal("replay answered with stale=true")
		}
		// The other replica knows about the use too.
		resp, ae = send(b, 1)
		assertNotAuthenticated(t, resp, ae)
		// A nonce issued by replica a is good at replica b with a new count,
		// counts may arrive out of order, and each is single-use everywhere.
		for _, nc := range []uint32{3, 2} {
			if resp, ae := send(b, nc); resp.StatusCode != http.StatusOK {
				t.Fatalf("nc=%d at replica b: %d %+v", nc, resp.StatusCode, ae)
			}
			resp, ae := send(a, nc)
			assertNotAuthenticated(t, resp, ae)
		}
	})
}

func TestExpiredNonceIsStale(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		e := start(t, dsn, Options{NonceLifetime: 2 * time.Minute})
		k := keyByName(t, "readonly")
		uri := groupPath + "?pretty=false&itemsPerPage=5"
		n := fetchNonce(t, e)
		e.clock.Advance(2*time.Minute + time.Second)
		h := digestParams{user: k.public, pass: k.private, method: "GET", uri: uri, nonce: n, nc: 1}.header()
		resp, _, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", h)
		assertNotAuthenticated(t, resp, ae)
		fresh, stale := challengeOf(t, resp)
		if !stale {
			t.Fatal("expired nonce with a correct response: stale=false, want true")
		}
		// Wrong password on an expired nonce is not "stale": the client
		// must not be told to simply retry.
		h = digestParams{user: k.public, pass: "wrong", method: "GET", uri: uri, nonce: n, nc: 2}.header()
		resp, _, ae = get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", h)
		assertNotAuthenticated(t, resp, ae)
		if _, stale := challengeOf(t, resp); stale {
			t.Fatal("expired nonce with a wrong response: stale=true, want false")
		}
		// The fresh nonce from the stale challenge works.
		h = digestParams{user: k.public, pass: k.private, method: "GET", uri: uri, nonce: fresh, nc: 1}.header()
		if resp, _, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", h); resp.StatusCode != http.StatusOK {
			t.Fatalf("fresh nonce: %d %+v", resp.StatusCode, ae)
		}
		// Just inside the lifetime is still good.
		n = fetchNonce(t, e)
		e.clock.Advance(2 * time.Minute)
		h = digestParams{user: k.public, pass: k.private, method: "GET", uri: uri, nonce: n, nc: 1}.header()
		if resp, _, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", h); resp.StatusCode != http.StatusOK {
			t.Fatalf("nonce at exactly its lifetime: %d %+v", resp.StatusCode, ae)
		}
	})
}

func TestDigestRejections(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	other := start(t, engines["sqlite"](t), Options{}) // another database, another nonce secret
	k := keyByName(t, "readonly")
	uri := groupPath + "?pretty=false&itemsPerPage=5"
	good := func() digestParams {
		return digestParams{user: k.public, pass: k.private, method: "GET", uri: uri, nonce: fetchNonce(t, e), nc: 1}
	}
	cases := map[string]func() string{
		"wrong password":      func() string { d := good(); d.pass += "!"; return d.header() },
		"unknown user":        func() string { d := good(); d.user = "nobodyxx"; return d.header() },
		"empty password":      func() string { d := good(); d.pass = ""; return d.header() },
		"other realm":         func() string { d := good(); d.realm = "Other"; return d.header() },
		"qop auth-int":        func() string { d := good(); d.qop = "auth-int"; return d.header() },
		"unknown algorithm":   func() string { d := good(); d.alg = "SHA-512-256"; return d.header() },
		"uri of another path": func() string { d := good(); d.uri = "/api/atlas/v2/groups/" + projA2 + "/clusters"; return d.header() },
		"uri without query":   func() string { d := good(); d.uri = groupPath; return d.header() },
		"other method":        func() string { d := good(); d.method = "DELETE"; return d.header() },
		"nc zero":             func() string { d := good(); d.nc = 0; return d.header() },
		"forged nonce":        func() string { d := good(); d.nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; return d.header() },
		"nonce of another deployment": func() string {
			d := good()
			d.nonce = fetchNonce(t, other)
			return d.header()
		},
		"tampered nonce": func() string {
			d := good()
			b := []byte(d.nonce)
			b[3] ^= 1
			d.nonce = string(b)
			return d.header()
		},
		"no qop (RFC 2069)": func() string {
			d := good()
			return strings.Replace(strings.Replace(d.header(), ", qop=auth", "", 1), ", nc=00000001", "", 1)
		},
		"nc not 8 digits": func() string { return strings.Replace(good().header(), "nc=00000001", "nc=1", 1) },
		"userhash":        func() string { return good().header() + ", userhash=true" },
		"missing cnonce": func() string {
			h := good().header()
			return h[:strings.Index(h, `, cnonce=`)]
		},
		"response uppercase junk": func() string {
			h := good().header()
			i := strings.Index(h, `response="`) + len(`response="`)
			return h[:i] + "ZZ" + h[i+2:]
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			resp, _, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", mk())
			assertNotAuthenticated(t, resp, ae)
			if _, stale := challengeOf(t, resp); stale {
				t.Fatal("stale=true")
			}
		})
	}
	// The same good header is accepted: the cases fail for their reason.
	if resp, _, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", good().header()); resp.StatusCode != http.StatusOK {
		t.Fatalf("control: %d %+v", resp.StatusCode, ae)
	}
	// Uppercase hex in the response is the same digest.
	h := good().header()
	i := strings.Index(h, `response="`) + len(`response="`)
	h = h[:i] + strings.ToUpper(h[i:i+32]) + h[i+32:]
	if resp, _, ae := get(t, http.DefaultClient, e.srv.URL+uri, "Authorization", h); resp.StatusCode != http.StatusOK {
		t.Fatalf("uppercase response: %d %+v", resp.StatusCode, ae)
	}
}

func TestOtherOrganizationLooksLikeBadCredentials(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	for name, newClient := range clients {
		t.Run(name, func(t *testing.T) {
			kb := keyByName(t, "orgbownr")
			resp, _, ae := get(t, newClient(kb.public, kb.private), clustersURL(e, projA1))
			assertNotAuthenticated(t, resp, ae)
			ka := keyByName(t, "orgowner")
			resp, _, ae = get(t, newClient(ka.public, ka.private), clustersURL(e, projB1))
			assertNotAuthenticated(t, resp, ae)
			// Each sees its own organization.
			for _, c := range []struct {
				k     testKey
				group string
			}{{kb, projB1}, {ka, projA1}, {ka, projA2}} {
				if resp, _, ae := get(t, newClient(c.k.public, c.k.private), clustersURL(e, c.group)); resp.StatusCode != http.StatusOK {
					t.Fatalf("%s on %s: %d %+v", c.k.public, c.group, resp.StatusCode, ae)
				}
			}
		})
	}
}

func TestRoleTooLowThroughClients(t *testing.T) {
	e := start(t, engines["sqlite"](t), Options{})
	k := keyByName(t, "readonly")
	for name, newClient := range clients {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+groupPath+"/Cluster0/backup/snapshots", bytes.NewReader([]byte(`{}`)))
			req.Header.Set(testOperationHeader, string(atlas.OpTakeSnapshots))
			resp, _, ae := do(t, newClient(k.public, k.private), req)
			if resp.StatusCode != http.StatusUnauthorized || ae.ErrorCode != "USER_UNAUTHORIZED" ||
				ae.Detail != "Current user is not authorized to perform this action." || ae.Parameters == nil || len(*ae.Parameters) != 0 {
				t.Fatalf("got %d %+v", resp.StatusCode, ae)
			}
			challengeOf(t, resp)
		})
	}
}

func TestAccessList(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		e := start(t, dsn, Options{})
		deny := keyByName(t, "denylist")
		for name, newClient := range clients {
			resp, _, ae := get(t, newClient(deny.public, deny.private), clustersURL(e, projA1))
			if resp.StatusCode != http.StatusForbidden || ae.ErrorCode != "IP_ADDRESS_NOT_ON_ACCESS_LIST" ||
				ae.Detail != "IP address 127.0.0.1 is not allowed to access this resource." ||
				ae.Parameters == nil || fmt.Sprint(*ae.Parameters) != "[127.0.0.1]" || ae.Reason != "Forbidden" {
				t.Fatalf("%s: got %d %+v", name, resp.StatusCode, ae)
			}
			allow := keyByName(t, "allowlst")
			if resp, _, ae := get(t, newClient(allow.public, allow.private), clustersURL(e, projA1)); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: allowed key: %d %+v", name, resp.StatusCode, ae)
			}
		}
		// A forwarded-for header naming an allowed address changes nothing.
		c := clients["mongodb-forks"](deny.public, deny.private)
		resp, _, _ := get(t, c, clustersURL(e, projA1), "X-Forwarded-For", "10.9.8.1", "X-Real-Ip", "10.9.8.1")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("X-Forwarded-For was trusted: %d", resp.StatusCode)
		}
	})
}

func TestAccessListMatching(t *testing.T) {
	l, err := parseAccessList([]string{"10.9.8.0/24", "192.0.2.7", "2001:db8::/32", "::ffff:198.51.100.0/120"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"10.9.8.200:5555":            true,
		"10.9.9.1:5555":              false,
		"192.0.2.7:1":                true,
		"192.0.2.8:1":                false,
		"[2001:db8::1]:443":          true,
		"[2001:db9::1]:443":          false,
		"[::ffff:10.9.8.3]:80":       true, // IPv4-mapped client
		"198.51.100.9:80":            true, // IPv4-mapped range
		"[fe80::1%eth0]:80":          false,
		"not an address":             false,
		"":                           false,
		"[2001:db8::1%eth0]:443":     true,
		"[::ffff:192.0.2.7]:1":       true,
		"[::ffff:192.0.2.9]:1":       false,
		"10.9.8.1":                   true, // no port
		"[2001:db8:ffff::ffff]:8443": true,
	} {
		if got := l.allows(addr); got != want {
			t.Errorf("allows(%q) = %v, want %v", addr, got, want)
		}
	}
	if !(accessList{}).allows("anything") {
		t.Error("an empty access list must allow everybody")
	}
	if _, err := parseAccessList([]string{"10.0.0.0/33"}); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestPurgeRemovesExpiredNonceUses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		e := start(t, dsn, Options{NonceLifetime: time.Minute, PurgeInterval: time.Minute})
		k := keyByName(t, "readonly")
		c := clients["mongodb-forks"](k.public, k.private)
		for i := 0; i < 3; i++ {
			if resp, _, ae := get(t, c, clustersURL(e, projA1)); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %+v", resp.StatusCode, ae)
			}
		}
		count := func() int {
			var n int
			if err := e.st.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM auth_nonce_uses`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 3 {
			t.Fatalf("%d nonce uses recorded, want 3", n)
		}
		// Past the lifetime plus the clock-skew margin, any request purges.
		e.clock.Advance(time.Minute + maxClockSkew + time.Second)
		get(t, http.DefaultClient, clustersURL(e, projA1))
		if n := count(); n != 0 {
			t.Fatalf("%d nonce uses left after purge, want 0", n)
		}
	})
}
