// Package binding says which tenants a compatible surface serves and with
// what settings. A tenant enables a surface by storing that surface's
// settings (the admin API's /v1/tenants/{t}/surfaces/{name}); a legacy
// request names its tenant by a lookup key of those settings (an account
// key, a store hash), by the host it was sent to, or not at all, when the
// server binds the surface to one tenant (--surface-hosts,
// --surface-tenants).
//
// Each surface's settings type lives here (one file per surface, one line
// in kinds.go), so that the admin API, the CLI and the surface share its
// validation. Settings hold no secret in plain: a surface's secrets are
// sealed by the core that owns them (signing keys, client and device
// secrets) and settings only name them.
package binding

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// ErrDisabled means the tenant does not serve the surface.
var ErrDisabled = errors.New("binding: surface not enabled for this tenant")

// cacheTTL bounds how long a record read from storage is used without
// reading it again, should a change-log entry be missed.
const cacheTTL = 30 * time.Second

// Options configure a Resolver.
type Options struct {
	Store store.Store
	// Hosts maps a request host (lower case, with or without its port) to
	// the tenant a surface serves there, for requests that name none.
	Hosts map[string]string
	// Tenants maps a surface name to the one tenant it serves requests
	// that name none, when their host is not in Hosts.
	Tenants map[string]string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Resolver reads surface records through a cache that Invalidate keeps
// current with the change log.
type Resolver struct {
	st      store.Store
	hosts   map[string]string
	tenants map[string]string
	now     func() time.Time

	mu   sync.Mutex
	recs map[[2]string]cached // (tenant, name)
	keys map[[2]string]cached // (name, key) → record
}

type cached struct {
	rec   store.Surface
	found bool
	at    time.Time
}

// New returns a Resolver. Every surface named in o.Tenants must be known.
func New(o Options) (*Resolver, error) {
	if o.Store == nil {
		return nil, errors.New("binding: Store is required")
	}
	for name := range o.Tenants {
		if !Known(name) {
			return nil, fmt.Errorf("binding: unknown surface %q (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	hosts := make(map[string]string, len(o.Hosts))
	for h, t := range o.Hosts {
		hosts[strings.ToLower(h)] = t
	}
	return &Resolver{st: o.Store, hosts: hosts, tenants: o.Tenants, now: o.Now,
		recs: map[[2]string]cached{}, keys: map[[2]string]cached{}}, nil
}

// Settings decodes the tenant's settings of surface name into into (a
// pointer, set to its zero value first). ErrDisabled when the tenant has
// not enabled it; a storage failure is returned as it is
// (store.ErrUnavailable).
func (r *Resolver) Settings(ctx context.Context, tenant, name string, into Settings) error {
	rec, err := r.record(ctx, tenant, name)
	if err != nil {
		return err
	}
	if v := reflect.ValueOf(into); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
	return decodeStrict(rec.Settings, into)
}

// Enabled reports whether the tenant serves surface name.
func (r *Resolver) Enabled(ctx context.Context, tenant, name string) error {
	_, err := r.record(ctx, tenant, name)
	return err
}

// ByKey returns the tenant whose settings of surface name carry the lookup
// key key: store.ErrNotFound when none does.
func (r *Resolver) ByKey(ctx context.Context, name, key string) (string, error) {
	if key == "" {
		return "", store.ErrNotFound
	}
	k := [2]string{name, key}
	if c, ok := r.get(r.keys, k); ok {
		if !c.found {
			return "", store.ErrNotFound
		}
		return c.rec.Tenant, nil
	}
	rec, err := r.st.Surfaces().GetByKey(ctx, name, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.put(r.keys, k, cached{})
		return "", store.ErrNotFound
	case err != nil:
		return "", err
	}
	r.put(r.keys, k, cached{rec: rec, found: true})
	r.put(r.recs, [2]string{rec.Tenant, name}, cached{rec: rec, found: true})
	return rec.Tenant, nil
}

// ByHost returns the tenant surface name serves for a request to host
// that names no tenant: the host's tenant (Options.Hosts, matched with
// and then without the port), else the surface's one tenant
// (Options.Tenants). It does not check that the tenant enabled the
// surface: Settings does.
func (r *Resolver) ByHost(name, host string) (string, bool) {
	host = strings.ToLower(host)
	if t, ok := r.hosts[host]; ok {
		return t, true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		if t, ok := r.hosts[h]; ok {
			return t, true
		}
	}
	t, ok := r.tenants[name]
	return t, ok
}

// Invalidate drops what a change made stale: a surface record (its key is
// the surface name) or everything of a tenant.
func (r *Resolver) Invalidate(c store.Change) {
	if c.Entity != store.EntitySurface && c.Entity != store.EntityTenant {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.recs {
		if k[0] == c.Tenant && (c.Entity == store.EntityTenant || k[1] == c.Key) {
			delete(r.recs, k)
		}
	}
	// A key may have moved to or from this tenant: forget the surface's
	// keys (all of them on a tenant change).
	for k, v := range r.keys {
		if c.Entity == store.EntityTenant && (!v.found || v.rec.Tenant == c.Tenant) || k[0] == c.Key {
			delete(r.keys, k)
		}
	}
}

func (r *Resolver) record(ctx context.Context, tenant, name string) (store.Surface, error) {
	k := [2]string{tenant, name}
	if c, ok := r.get(r.recs, k); ok {
		if !c.found {
			return store.Surface{}, ErrDisabled
		}
		return c.rec, nil
	}
	rec, err := r.st.Surfaces().Get(ctx, tenant, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.put(r.recs, k, cached{})
		return store.Surface{}, ErrDisabled
	case err != nil:
		return store.Surface{}, err
	}
	r.put(r.recs, k, cached{rec: rec, found: true})
	return rec, nil
}

func (r *Resolver) get(m map[[2]string]cached, k [2]string) (cached, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := m[k]
	if ok && r.now().Sub(c.at) > cacheTTL {
		delete(m, k)
		return cached{}, false
	}
	return c, ok
}

func (r *Resolver) put(m map[[2]string]cached, k [2]string, c cached) {
	c.at = r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	m[k] = c
}

// decodeStrict decodes one JSON object into v, refusing unknown fields
// and trailing data.
func decodeStrict(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the settings object")
	}
	return nil
}
