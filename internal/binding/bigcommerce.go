package binding

import (
	"fmt"
	"slices"
)

// BigCommerceName is the surface name of seed 001's BigCommerce storefront
// token API and GraphQL Storefront subset (internal/compat/bigcommerce).
const BigCommerceName = "bigcommerce"

func init() { Register(BigCommerceName, func() Settings { return &BigCommerce{} }) }

// BigCommerce configures the BigCommerce surface for a tenant: the tenant
// is the store its hash names, and its channels are the only ones tokens
// may name (POST /stores/{hash}/v3/storefront/api-token, channel_ids).
type BigCommerce struct {
	// StoreHash is the store's permanent id in BigCommerce's paths
	// (/stores/{store_hash}/…) and GraphQL hosts (store-{hash}-{channel}…):
	// 1 to 32 lower-case letters and digits.
	StoreHash string `json:"store_hash"`
	// Channels are the store's sales channels (BigCommerce's channel ids,
	// positive integers); a token may name only these.
	Channels []Channel `json:"channels"`
}

// Channel is one sales channel of a store.
type Channel struct {
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
}

// Validate implements Settings.
func (b *BigCommerce) Validate() map[string]string {
	p := map[string]string{}
	if !validStoreHash(b.StoreHash) {
		p["store_hash"] = "must be 1 to 32 lower-case letters and digits"
	}
	switch {
	case len(b.Channels) == 0:
		p["channels"] = "must list at least one channel"
	case len(b.Channels) > 1000:
		p["channels"] = "must list at most 1000 channels"
	}
	var seen []int64
	for i, c := range b.Channels {
		switch {
		case c.ID < 1:
			p[fmt.Sprintf("channels[%d].id", i)] = "must be a positive integer"
		case slices.Contains(seen, c.ID):
			p[fmt.Sprintf("channels[%d].id", i)] = fmt.Sprintf("channel %d is listed twice", c.ID)
		}
		if len(c.Name) > 200 {
			p[fmt.Sprintf("channels[%d].name", i)] = "must be at most 200 characters"
		}
		seen = append(seen, c.ID)
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// LookupKey implements Settings: the store hash.
func (b *BigCommerce) LookupKey() string { return b.StoreHash }

// ChannelIDs are the store's channel ids, in the order listed.
func (b *BigCommerce) ChannelIDs() []int64 {
	out := make([]int64, len(b.Channels))
	for i, c := range b.Channels {
		out[i] = c.ID
	}
	return out
}

func validStoreHash(h string) bool {
	if h == "" || len(h) > 32 {
		return false
	}
	for i := range len(h) {
		if c := h[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
