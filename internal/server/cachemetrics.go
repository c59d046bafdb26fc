package server

import (
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/metrics"
	"github.com/coffer/coffer/internal/object"
)

// watchCaches adds the hits and misses the services count in their caches, read at each
// scrape, as coffer_cache_hits_total and coffer_cache_misses_total by cache.
func (m *serverMetrics) watchCaches(identities *iam.Service, keys *kms.Service, objects *object.Service) {
	caches := []struct {
		name   string
		counts func() (hits, misses uint64)
	}{
		{"iam_credentials", identities.CredentialCacheCounts},
		{"kms_keys", func() (uint64, uint64) { c := keys.CacheCounts(); return c.KeyHits, c.KeyMisses }},
		{"kms_grants", func() (uint64, uint64) { c := keys.CacheCounts(); return c.GrantHits, c.GrantMisses }},
		{"kms_aliases", func() (uint64, uint64) { c := keys.CacheCounts(); return c.AliasHits, c.AliasMisses }},
		{"kms_key_policies", func() (uint64, uint64) { c := keys.CacheCounts(); return c.PolicyHits, c.PolicyMisses }},
		{"bucket_keys", objects.BucketKeyCacheCounts},
		{"bucket_policies", objects.BucketPolicyCacheCounts},
	}
	for _, c := range caches {
		label := metrics.Label{Name: "cache", Value: c.name}
		m.reg.CounterFunc("coffer_cache_hits_total", "Lookups a cache answered, by cache.",
			func() float64 { h, _ := c.counts(); return float64(h) }, label)
		m.reg.CounterFunc("coffer_cache_misses_total", "Lookups a cache could not answer (read or computed instead), by cache.",
			func() float64 { _, n := c.counts(); return float64(n) }, label)
	}
}
