package session

import (
	"sync"
	"time"
)

// CacheTTL is how long a buyer session found in the database is trusted
// without asking again. Order creation looked its session up on every
// request (one query of the few an order costs on PostgreSQL). Within a
// process a logout or revocation drops the cached entry at once; another
// process sharing the database learns of it when its copy expires, so a
// revoked buyer session keeps working there for at most CacheTTL.
const CacheTTL = time.Second

// maxCached bounds the cache; past it, entries older than CacheTTL go.
const maxCached = 100_000

type cachedSession struct {
	s  Session
	at time.Time
}

// cache holds recently looked-up buyer sessions by token hash.
type cache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

func (c *cache) get(hash string, now time.Time) (Session, bool) {
	c.mu.Lock()
	e, ok := c.m[hash]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= CacheTTL || !now.Before(e.s.ExpiresAt) {
		return Session{}, false
	}
	return e.s, true
}

func (c *cache) put(hash string, s Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedSession{}
	}
	if len(c.m) >= maxCached {
		for h, e := range c.m {
			if now.Sub(e.at) >= CacheTTL {
				delete(c.m, h)
			}
		}
	}
	if len(c.m) < maxCached {
		c.m[hash] = cachedSession{s: s, at: now}
	}
}

// drop forgets the session of hash.
func (c *cache) drop(hash string) {
	c.mu.Lock()
	delete(c.m, hash)
	c.mu.Unlock()
}

// dropSubject forgets every session of a subject of kind.
func (c *cache) dropSubject(kind Kind, subjectID int64) {
	c.mu.Lock()
	for h, e := range c.m {
		if e.s.Kind == kind && e.s.SubjectID == subjectID {
			delete(c.m, h)
		}
	}
	c.mu.Unlock()
}
