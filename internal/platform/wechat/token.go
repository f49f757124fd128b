package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

const (
	// refreshMargin: a cached token with less validity left is refreshed.
	refreshMargin = 5 * time.Minute
	// fetchTimeout bounds a shared token fetch, which outlives the
	// cancellation of the caller that started it.
	fetchTimeout = 30 * time.Second
)

// Token is a cached access token.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// TokenStore caches access tokens by appid. A shared (e.g. database-backed)
// store lets several server processes use one token.
type TokenStore interface {
	// Get returns the cached token of appid; ok is false if there is none.
	Get(ctx context.Context, appid string) (t Token, ok bool, err error)
	// Put caches t as the token of appid.
	Put(ctx context.Context, appid string, t Token) error
	// Delete forgets the token of appid.
	Delete(ctx context.Context, appid string) error
}

// NewMemoryTokenStore returns a TokenStore that keeps tokens in memory.
func NewMemoryTokenStore() TokenStore {
	return &memoryStore{tokens: make(map[string]Token)}
}

type memoryStore struct {
	mu     sync.Mutex
	tokens map[string]Token
}

func (m *memoryStore) Get(_ context.Context, appid string) (Token, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[appid]
	return t, ok, nil
}

func (m *memoryStore) Put(_ context.Context, appid string, t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[appid] = t
	return nil
}

func (m *memoryStore) Delete(_ context.Context, appid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, appid)
	return nil
}

// AccessToken returns the app's access token from the TokenStore, fetching a
// new one (POST /cgi-bin/stable_token) when none is cached or less than five
// minutes of validity remain. Concurrent callers share a single fetch.
func (c *Client) AccessToken(ctx context.Context, app App) (string, error) {
	t, ok, err := c.tokens.Get(ctx, app.AppID)
	if err != nil {
		return "", fmt.Errorf("wechat: token store: %w", err)
	}
	if ok && c.fresh(t) {
		return t.Value, nil
	}
	return c.token(ctx, app, "")
}

// fresh reports whether t is valid for more than refreshMargin.
func (c *Client) fresh(t Token) bool {
	return t.Value != "" && c.now().Add(refreshMargin).Before(t.ExpiresAt)
}

// token returns a fresh token other than stale; a non-empty stale token was
// rejected by WeChat and is replaced with force_refresh.
func (c *Client) token(ctx context.Context, app App, stale string) (string, error) {
	for range 2 { // a joined fetch may predate the rejection of stale
		value, err := c.shared(ctx, app.AppID, func(ctx context.Context) (string, error) {
			return c.loadOrFetch(ctx, app, stale)
		})
		if err != nil || stale == "" || value != stale {
			return value, err
		}
	}
	return "", errors.New("wechat: rejected access token could not be replaced")
}

// loadOrFetch re-checks the store (another caller or process may have
// refreshed the token) and otherwise fetches and stores a new token.
func (c *Client) loadOrFetch(ctx context.Context, app App, stale string) (string, error) {
	t, ok, err := c.tokens.Get(ctx, app.AppID)
	if err != nil {
		return "", fmt.Errorf("wechat: token store: %w", err)
	}
	if ok && t.Value != stale && c.fresh(t) {
		return t.Value, nil
	}
	if ok && stale != "" && t.Value == stale {
		if err := c.tokens.Delete(ctx, app.AppID); err != nil {
			return "", fmt.Errorf("wechat: token store: %w", err)
		}
	}
	t, err = c.fetchStable(ctx, app, stale != "")
	if err != nil {
		return "", err
	}
	// A store failure only costs a later refetch; the token itself is good.
	_ = c.tokens.Put(ctx, app.AppID, t)
	return t.Value, nil
}

// fetchStable calls POST /cgi-bin/stable_token.
func (c *Client) fetchStable(ctx context.Context, app App, force bool) (Token, error) {
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	rq := request{
		method: http.MethodPost,
		path:   "/cgi-bin/stable_token",
		body: map[string]any{
			"grant_type":    "client_credential",
			"appid":         app.AppID,
			"secret":        app.Secret,
			"force_refresh": force,
		},
		redact: []string{app.Secret},
	}
	start := c.now()
	if err := c.call(ctx, rq, &out); err != nil {
		return Token{}, err
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return Token{}, errors.New("wechat: stable_token response lacks access_token or expires_in")
	}
	return Token{Value: out.AccessToken, ExpiresAt: start.Add(time.Duration(out.ExpiresIn) * time.Second)}, nil
}

// flight is one shared token fetch.
type flight struct {
	done  chan struct{}
	value string
	err   error
}

// shared runs fn once per key at a time: callers arriving while a fetch is in
// flight wait for its result. The fetch is detached from the caller's
// cancellation so one caller giving up does not fail the others.
func (c *Client) shared(ctx context.Context, key string, fn func(context.Context) (string, error)) (string, error) {
	c.mu.Lock()
	f, ok := c.flights[key]
	if !ok {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
		go c.run(context.WithoutCancel(ctx), key, f, fn)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *Client) run(ctx context.Context, key string, f *flight, fn func(context.Context) (string, error)) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	f.value, f.err = fn(ctx)
	c.mu.Lock()
	delete(c.flights, key)
	c.mu.Unlock()
	close(f.done)
}
