package store_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/store"
)

func TestAuthSecretCreatedOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first, err := s.AuthSecret(ctx, "k", func() ([]byte, error) { return []byte{1, 2, 3}, nil })
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, []byte{1, 2, 3}) {
			t.Fatalf("first = %x", first)
		}
		again, err := s.AuthSecret(ctx, "k", func() ([]byte, error) { return []byte{9, 9}, nil })
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, first) {
			t.Fatalf("second call returned %x, want the stored %x", again, first)
		}
		other, err := s.AuthSecret(ctx, "other", func() ([]byte, error) { return []byte{7}, nil })
		if err != nil || !bytes.Equal(other, []byte{7}) {
			t.Fatalf("other = %x, %v", other, err)
		}
		if _, err := s.AuthSecret(ctx, "x", func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
			t.Fatal("generator error not returned")
		}
	})
}

func TestAuthSecretConcurrentReplicasAgree(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		got := make([][]byte, 8)
		errs := make([]error, 8)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = s.AuthSecret(ctx, "race", func() ([]byte, error) { return []byte{byte(i + 1)}, nil })
			}()
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("caller %d got %x, caller 0 got %x", i, got[i], got[0])
			}
		}
	})
}

func TestUseNonceCountRejectsReplay(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		exp := t0.Add(5 * time.Minute)
		if err := s.UseNonceCount(ctx, "n1", 1, exp); err != nil {
			t.Fatal(err)
		}
		if err := s.UseNonceCount(ctx, "n1", 1, exp); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("replay: err = %v, want ErrDuplicate", err)
		}
		if err := s.UseNonceCount(ctx, "n1", 2, exp); err != nil {
			t.Fatalf("next count: %v", err)
		}
		if err := s.UseNonceCount(ctx, "n2", 1, exp); err != nil {
			t.Fatalf("other nonce: %v", err)
		}
		if err := s.UseNonceCount(ctx, "n1", 0xffffffff, exp); err != nil {
			t.Fatalf("max count: %v", err)
		}
		if err := s.UseNonceCount(ctx, "n1", 0xffffffff, exp); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("max count replay: err = %v", err)
		}
	})
}

func TestAccessTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tok := &store.AccessToken{Hash: "h1", ClientID: "c1", IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateAccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccessToken(ctx, tok); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate: err = %v", err)
		}
		got, err := s.GetAccessToken(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ClientID != "c1" || !got.IssuedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(time.Hour)) || !got.RevokedAt.IsZero() {
			t.Fatalf("got %+v", got)
		}
		if _, err := s.GetAccessToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown: err = %v", err)
		}
		if ok, err := s.RevokeAccessToken(ctx, "h1", "someone-else", t0); err != nil || ok {
			t.Fatalf("revoke by another client = %v, %v; want false", ok, err)
		}
		if ok, err := s.RevokeAccessToken(ctx, "h1", "c1", t0.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("revoke = %v, %v; want true", ok, err)
		}
		if ok, err := s.RevokeAccessToken(ctx, "h1", "c1", t0.Add(2*time.Minute)); err != nil || ok {
			t.Fatalf("second revoke = %v, %v; want false", ok, err)
		}
		got, err = s.GetAccessToken(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if !got.RevokedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("revokedAt = %v", got.RevokedAt)
		}
	})
}

func TestPurgeAuth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, exp := range []time.Time{t0.Add(time.Minute), t0.Add(time.Hour)} {
			if err := s.UseNonceCount(ctx, "n", uint32(i+1), exp); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateAccessToken(ctx, &store.AccessToken{Hash: string(rune('a' + i)), ClientID: "c", IssuedAt: t0, ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		n, k, err := s.PurgeAuth(ctx, t0.Add(2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 || k != 1 {
			t.Fatalf("purged %d nonce uses and %d tokens, want 1 and 1", n, k)
		}
		if _, err := s.GetAccessToken(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired token still there: %v", err)
		}
		if _, err := s.GetAccessToken(ctx, "b"); err != nil {
			t.Fatalf("live token purged: %v", err)
		}
		// The purged nonce use may be recorded again; the live one may not.
		if err := s.UseNonceCount(ctx, "n", 1, t0.Add(time.Hour)); err != nil {
			t.Fatalf("purged pair: %v", err)
		}
		if err := s.UseNonceCount(ctx, "n", 2, t0.Add(time.Hour)); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("live pair: err = %v", err)
		}
	})
}
