package catalog

import "testing"

func TestDetailCacheBudgetAndEpoch(t *testing.T) {
	c := newDetailCache(10 * (100 + entryOverhead))
	body := make([]byte, 100)
	for id := int64(1); id <= 30; id++ {
		_, epoch, _ := c.get(1, id)
		c.put(1, id, body, epoch)
	}
	if n, used := c.stats(); n != 10 || used != 10*(100+entryOverhead) {
		t.Fatalf("over budget: %d entries, %d bytes", n, used)
	}

	// Another shop never sees a product of this one.
	c.invalidate(1, 2, 3) // whatever is cached
	_, epoch, _ := c.get(1, 99)
	c.put(1, 99, body, epoch)
	if _, _, ok := c.get(2, 99); ok {
		t.Fatal("a cached product was served to another shop")
	}

	// A fill that read the database before an invalidation is not stored.
	_, epoch, _ = c.get(1, 50)
	c.invalidate(50)
	c.put(1, 50, body, epoch)
	if _, _, ok := c.get(1, 50); ok {
		t.Fatal("a fill older than an invalidation was stored")
	}
	c.invalidate(99)
	if _, _, ok := c.get(1, 99); ok {
		t.Fatal("an invalidated product is still served")
	}
}
