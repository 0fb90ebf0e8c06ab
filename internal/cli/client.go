package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"golang.org/x/oauth2"
)

// newClient builds the Atlas SDK client a profile describes: a service
// account when it has a client id, otherwise an API key.
func newClient(ctx context.Context, p Profile, userAgent string) (*admin.APIClient, error) {
	mods := []admin.ClientModifier{admin.UseBaseURL(p.OpsManagerURL), admin.UseUserAgent(userAgent)}
	switch {
	case p.ClientID != "" || p.ClientSecret != "":
		if p.ClientID == "" || p.ClientSecret == "" {
			return nil, fmt.Errorf("profile %q has only half a service account: set both client_id and client_secret (or MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET)", p.Name)
		}
		// A client of its own for token requests: the SDK would otherwise
		// change http.DefaultClient's transport.
		tokenClient := &http.Client{Timeout: time.Minute}
		ctx = context.WithValue(ctx, oauth2.HTTPClient, tokenClient)
		// UseOAuthAuth derives the token URL from the base URL set before it.
		mods = append(mods, admin.UseOAuthAuth(ctx, p.ClientID, p.ClientSecret))
	case p.PublicAPIKey != "" || p.PrivateAPIKey != "":
		if p.PublicAPIKey == "" || p.PrivateAPIKey == "" {
			return nil, fmt.Errorf("profile %q has only half an API key: set both public_api_key and private_api_key (or MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY)", p.Name)
		}
		mods = append(mods, admin.UseDigestAuth(p.PublicAPIKey, p.PrivateAPIKey))
	default:
		return nil, fmt.Errorf("profile %q has no credentials: set public_api_key and private_api_key, or client_id and client_secret (or the MONGODB_ATLAS_* environment variables); `snapex init` writes a profile for a local snapex", p.Name)
	}
	// Last, so it wraps whichever client the credentials installed.
	mods = append(mods, func(c *admin.Configuration) error {
		c.HTTPClient = wrapHTTPClient(c.HTTPClient)
		return nil
	})
	c, err := admin.NewClient(mods...)
	if err != nil {
		return nil, fmt.Errorf("create API client: %w", err)
	}
	return c, nil
}

// unreachableError is a request that got no answer from the API (refused,
// reset, timed out), as opposed to an answer that was an error; a watch
// rides out a few of them, as when the server restarts.
type unreachableError struct{ error }

func (e *unreachableError) Unwrap() error { return e.error }

// apiError rewrites an SDK error into what went wrong: the API's own
// detail and error code, or which server could not be reached.
func apiError(p Profile, what string, err error) error {
	if err == nil {
		return nil
	}
	if apiErr, ok := admin.AsError(err); ok {
		return fmt.Errorf("%s: %s (HTTP %d, %s)", what, apiErr.GetDetail(), apiErr.GetError(), apiErr.GetErrorCode())
	}
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		base := p.OpsManagerURL
		if base == "" {
			base = "https://cloud.mongodb.com"
		}
		return &unreachableError{fmt.Errorf("%s: cannot reach %s (profile %q): %w", what, base, p.Name, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}
