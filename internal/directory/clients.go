package directory

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// ClientSpec is the writable part of a client. Public and Secret are read
// only on create.
type ClientSpec struct {
	ID          *string       `json:"id"`
	DisplayName *string       `json:"display_name"`
	GrantTypes  *[]string     `json:"grant_types"`
	Scopes      *[]string     `json:"scopes"`
	Audiences   *[]string     `json:"audiences"`
	Kinds       *[]string     `json:"kinds"`
	Policy      *store.Policy `json:"policy"`
	Disabled    *bool         `json:"disabled"`
	Public      *bool         `json:"public"`
	Secret      *string       `json:"secret"`
	// SecretHash, on create only, imports the hash of the client's secret
	// from another system instead of the secret (principal.ImportedHash:
	// argon2id or bcrypt, as league/oauth2-server applications store it).
	SecretHash *string `json:"secret_hash"`
	// JWKS holds the public keys of private_key_jwt assertions (RFC 7523).
	JWKS *json.RawMessage `json:"jwks"`
	// SecretRef names where the client's secret lives (a Vault KV v2
	// secret, say) instead of a secret tokend hashes and keeps. Setting it
	// drops a stored secret; rotating the secret drops the reference.
	SecretRef *secrets.Ref `json:"secret_ref"`
}

// checkRef validates a client's secret reference.
func checkRef(r *secrets.Ref) error {
	if err := r.Validate(); err != nil {
		return invalidf("secret_ref", "%v", err)
	}
	return nil
}

func (sp *ClientSpec) apply(c *store.Client, grantTypes []string) error {
	if sp.DisplayName != nil {
		if err := checkText("display_name", *sp.DisplayName, 200); err != nil {
			return err
		}
		c.DisplayName = *sp.DisplayName
	}
	if sp.GrantTypes != nil {
		if err := checkOneOf("grant_types", *sp.GrantTypes, grantTypes); err != nil {
			return err
		}
		c.GrantTypes = clean(*sp.GrantTypes)
	}
	if sp.Scopes != nil {
		if err := checkScopes("scopes", *sp.Scopes); err != nil {
			return err
		}
		c.Scopes = clean(*sp.Scopes)
	}
	if sp.Audiences != nil {
		if err := checkAudiences("audiences", *sp.Audiences); err != nil {
			return err
		}
		c.Audiences = clean(*sp.Audiences)
	}
	if sp.Kinds != nil {
		if err := checkOneOf("kinds", *sp.Kinds, Kinds); err != nil {
			return err
		}
		c.Kinds = clean(*sp.Kinds)
	}
	if sp.JWKS != nil {
		set, err := ParseClientJWKS(string(*sp.JWKS))
		if err != nil {
			return invalidf("jwks", "%v", err)
		}
		c.JWKS = set
	}
	if sp.Policy != nil {
		for field, msg := range tenant.Validate(*sp.Policy) {
			return invalidf("policy."+field, "%s", msg)
		}
		if sp.Policy.DefaultAudience != "" {
			return invalidf("policy.default_audience", "is a tenant setting; a client's default audiences are its audiences")
		}
		if len(sp.Policy.CORSOrigins) > 0 {
			return invalidf("policy.cors_origins", "is a tenant setting")
		}
		if sp.Policy.KeyRotationPeriod != 0 {
			return invalidf("policy.key_rotation_period", "is a tenant setting")
		}
		if sp.Policy.AuditRetention != 0 {
			return invalidf("policy.audit_retention", "is a tenant setting")
		}
		c.Policy = *sp.Policy
	}
	if sp.Disabled != nil {
		c.Disabled = *sp.Disabled
	}
	return nil
}

// CreateClient registers a client. Unless the client is public or a secret
// was chosen, tokend generates a secret and returns it, this once.
func (s *Service) CreateClient(ctx context.Context, by Actor, ten string, sp ClientSpec) (store.Client, string, error) {
	id := token.NewID()
	if sp.ID != nil {
		id = *sp.ID
	}
	if err := checkID("id", id); err != nil {
		return store.Client{}, "", err
	}
	if id == ten {
		// The tenant's id is the client_id of tokens no client minted.
		return store.Client{}, "", invalidf("id", "%q is the tenant's own id, the client_id of tokens no client minted", id)
	}
	now := s.stamp()
	c := store.Client{Tenant: ten, ID: id, GrantTypes: []string{"client_credentials"}, Scopes: []string{},
		Audiences: []string{}, Kinds: []string{"access"}, CreatedAt: now, UpdatedAt: now}
	if err := sp.apply(&c, s.grantTypes()); err != nil {
		return store.Client{}, "", err
	}
	public := sp.Public != nil && *sp.Public
	var secret string
	switch {
	case public && sp.Secret != nil:
		return store.Client{}, "", invalidf("secret", "a public client has no secret")
	case public && sp.SecretRef != nil:
		return store.Client{}, "", invalidf("secret_ref", "a public client has no secret")
	case sp.SecretHash != nil && (public || sp.Secret != nil || sp.SecretRef != nil):
		return store.Client{}, "", invalidf("secret_hash", "give one of a secret, a secret_hash or a secret_ref, and none for a public client")
	case sp.SecretHash != nil:
		h, err := principal.ImportedHash(*sp.SecretHash)
		if err != nil {
			return store.Client{}, "", invalidf("secret_hash", "%v", err)
		}
		c.SecretHash, c.SecretAlg = []byte(h), store.SecretArgon2id
		if principal.NeedsRehash(h) {
			c.SecretAlg = store.SecretBcrypt
		}
	case sp.SecretRef != nil && sp.Secret != nil:
		return store.Client{}, "", invalidf("secret_ref", "give a secret or a secret_ref, not both")
	case sp.SecretRef != nil:
		if err := checkRef(sp.SecretRef); err != nil {
			return store.Client{}, "", err
		}
		c.SecretRef = *sp.SecretRef
	case public:
	case sp.Secret != nil:
		if err := principal.ValidPassword(*sp.Secret); err != nil {
			return store.Client{}, "", invalidf("secret", "%v", err)
		}
		h, alg, err := principal.HashSecret(ctx, *sp.Secret)
		if err != nil {
			return store.Client{}, "", storeErr(err)
		}
		c.SecretHash, c.SecretAlg = h, alg
	default:
		secret, c.SecretHash = principal.NewSecret(token.TagClientSecret)
		c.SecretAlg = store.SecretSHA256
	}
	err := s.change(ctx, by, ten, "client.create", c.ID, nil, func(st store.Store) error {
		if err := policyWithin(ctx, st, ten, sp.Policy); err != nil {
			return err
		}
		return conflict(st.Clients().Create(ctx, c), "client %q already exists", c.ID)
	})
	if err != nil {
		return store.Client{}, "", err
	}
	return c, secret, nil
}

// Client returns one client.
func (s *Service) Client(ctx context.Context, tenant, id string) (store.Client, error) {
	c, err := s.st.Clients().Get(ctx, tenant, id)
	return c, notFound(err, "client", id)
}

// Clients lists a tenant's clients.
func (s *Service) Clients(ctx context.Context, tenant string, pg store.Page) ([]store.Client, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Clients().List(ctx, tenant, pg)
	return l, storeErr(err)
}

// UpdateClient changes a client; its secret changes only through
// RotateClientSecret, or by pointing it elsewhere with a secret_ref (which
// drops a stored secret).
func (s *Service) UpdateClient(ctx context.Context, by Actor, tenant, id string, sp ClientSpec) (store.Client, error) {
	switch {
	case sp.ID != nil && *sp.ID != id:
		return store.Client{}, invalidf("id", "cannot be changed")
	case sp.Secret != nil:
		return store.Client{}, invalidf("secret", "cannot be set by update; rotate the secret instead")
	case sp.SecretHash != nil:
		return store.Client{}, invalidf("secret_hash", "can only be imported when the client is created")
	case sp.Public != nil:
		return store.Client{}, invalidf("public", "cannot be changed")
	case sp.SecretRef != nil:
		if err := checkRef(sp.SecretRef); err != nil {
			return store.Client{}, err
		}
	}
	var out store.Client
	err := s.change(ctx, by, tenant, "client.update", id, nil, func(st store.Store) error {
		c, err := st.Clients().Get(ctx, tenant, id)
		if err != nil {
			return notFound(err, "client", id)
		}
		if err := sp.apply(&c, s.grantTypes()); err != nil {
			return err
		}
		if sp.SecretRef != nil {
			if !c.Confidential() {
				return invalidf("secret_ref", "a public client has no secret")
			}
			c.SecretRef, c.SecretHash, c.SecretAlg = *sp.SecretRef, nil, ""
		}
		if err := policyWithin(ctx, st, tenant, sp.Policy); err != nil {
			return err
		}
		c.UpdatedAt = s.stamp()
		out = c
		return st.Clients().Update(ctx, c)
	})
	return out, err
}

// policyWithin refuses a client policy that would loosen the tenant's (a
// longer expiry or lifetime, a higher limit): a client may only tighten
// it. Tokens are clamped to the tenant's maxima at issue time anyway
// (tenant.Effective), also when the tenant's policy tightens later.
func policyWithin(ctx context.Context, st store.Store, ten string, p *store.Policy) error {
	t, err := st.Tenants().Get(ctx, ten)
	if err != nil {
		return notFound(err, "tenant", ten)
	}
	if p == nil {
		return nil
	}
	for _, field := range []string{"access_ttl", "max_access_ttl", "lifetime", "max_lifetime", "refresh_ttl", "token_limit"} {
		if msg, bad := tenant.Within(t.Policy, *p)[field]; bad {
			return invalidf("policy."+field, "%s", msg)
		}
	}
	return nil
}

// RotateClientSecret replaces a client's secret with a generated one,
// kept by tokend (a secret reference is dropped).
func (s *Service) RotateClientSecret(ctx context.Context, by Actor, tenant, id string) (string, error) {
	secret, hash := principal.NewSecret(token.TagClientSecret)
	err := s.change(ctx, by, tenant, "client.rotate_secret", id, nil, func(st store.Store) error {
		c, err := st.Clients().Get(ctx, tenant, id)
		if err != nil {
			return notFound(err, "client", id)
		}
		c.SecretHash, c.SecretAlg, c.SecretRef, c.UpdatedAt = hash, store.SecretSHA256, secrets.Ref{}, s.stamp()
		return st.Clients().Update(ctx, c)
	})
	return secret, err
}

// DeleteClient deletes a client.
func (s *Service) DeleteClient(ctx context.Context, by Actor, tenant, id string) error {
	return s.change(ctx, by, tenant, "client.delete", id, nil, func(st store.Store) error {
		return notFound(st.Clients().Delete(ctx, tenant, id), "client", id)
	})
}

// ParseClientJWKS validates a client's JSON Web Key Set: public keys only,
// each with a kid, of a supported kind; "null" or "" clears it.
func ParseClientJWKS(raw string) (string, error) {
	if raw == "" || raw == "null" {
		return "", nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return "", fmt.Errorf("not a JSON Web Key Set: %v", err)
	}
	if len(set.Keys) == 0 {
		return "", fmt.Errorf("the set has no keys")
	}
	for i, k := range set.Keys {
		switch {
		case !k.IsPublic():
			return "", fmt.Errorf("keys[%d] is not a public key", i)
		case k.KeyID == "":
			return "", fmt.Errorf("keys[%d] has no kid", i)
		case !k.Valid():
			return "", fmt.Errorf("keys[%d] is not a valid key", i)
		}
	}
	b, _ := json.Marshal(set)
	return string(b), nil
}
