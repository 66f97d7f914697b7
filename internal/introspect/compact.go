package introspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// VerifyIn is Verify for a request that names its tenant (a path
// /t/{tenant}/…, or a surface bound to one): besides tokend's JWTs and
// opaque tokens it accepts the tenant's compact HS256 tokens
// (store.FormatCompact), which carry no issuer.
//
// A compact token is checked against storage, not the in-memory
// deny-list alone, so that a rotation is final at its commit on every
// replica: its ledger row must exist for the tenant and be neither
// revoked nor expired, and when its subject is a device the device must
// be enabled and hold the token's jti as its current one (Knock's
// from_token_payload: Store.active.find_by(id: sub, jti: jti)); a user's
// token needs the user enabled.
func (v *Verifier) VerifyIn(ctx context.Context, tenant, raw string) (*Identity, error) {
	if tenant != "" && raw != "" && !token.IsOpaque(raw) && looksNamed(raw) {
		if err := v.current(); err != nil {
			return nil, err
		}
		id, err := v.named(ctx, tenant, raw)
		if !errors.Is(err, errNoNamedKey) {
			return id, err
		}
		// Not one of the tenant's named secrets: one of tokend's own
		// HS256 JWTs, whose kid is a key id.
	}
	if tenant == "" || raw == "" || token.IsOpaque(raw) || !claims.IsCompactHS256(raw) {
		return v.Verify(ctx, raw)
	}
	if _, err := v.o.Peek(raw); err == nil {
		return v.Verify(ctx, raw)
	}
	if err := v.current(); err != nil {
		return nil, err
	}
	return v.compact(ctx, tenant, raw)
}

// IntrospectIn is Introspect with VerifyIn's compact tokens.
func (v *Verifier) IntrospectIn(ctx context.Context, tenant, raw string) (*Identity, error) {
	if tenant != "" && raw != "" && !token.IsOpaque(raw) && looksNamed(raw) {
		return v.VerifyIn(ctx, tenant, raw)
	}
	if tenant != "" && raw != "" && !token.IsOpaque(raw) && claims.IsCompactHS256(raw) {
		if _, err := v.o.Peek(raw); err != nil {
			return v.VerifyIn(ctx, tenant, raw)
		}
	}
	return v.Introspect(ctx, raw)
}

// compactClaims are the claims a compact token may carry.
type compactClaims struct {
	Exp *int64          `json:"exp"`
	Sub json.RawMessage `json:"sub"`
	Aud claims.Audience `json:"aud"`
	Jti string          `json:"jti"`
}

// ParseCompactClaims decodes the payload of a compact token: exp a whole
// number, sub a JSON number or string, aud and jti present.
func ParseCompactClaims(payload []byte) (sub string, aud []string, jti string, exp int64, err error) {
	var c compactClaims
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&c); err != nil || d.More() {
		return "", nil, "", 0, errors.New("payload is not one JSON object")
	}
	switch {
	case len(c.Sub) == 0:
		return "", nil, "", 0, errors.New("no sub")
	case c.Sub[0] == '"':
		if err := json.Unmarshal(c.Sub, &sub); err != nil {
			return "", nil, "", 0, err
		}
	default:
		n, err := strconv.ParseInt(string(c.Sub), 10, 64)
		if err != nil || n <= 0 {
			return "", nil, "", 0, errors.New("sub is neither a string nor a positive integer")
		}
		sub = strconv.FormatInt(n, 10)
	}
	if sub == "" || c.Jti == "" || len(c.Aud) == 0 {
		// Knock's from_token_payload refuses a blank aud or jti.
		return "", nil, "", 0, errors.New("sub, aud and jti are required")
	}
	if c.Exp != nil {
		exp = *c.Exp
	}
	return sub, c.Aud, c.Jti, exp, nil
}

func (v *Verifier) compact(ctx context.Context, ten, raw string) (*Identity, error) {
	payload, err := v.o.Keys.VerifyCompact(ctx, ten, raw)
	if err != nil {
		return nil, err
	}
	sub, _, jti, exp, err := ParseCompactClaims(payload)
	if err != nil {
		return nil, fault.InvalidToken("malformed token").WithCause(err)
	}
	now := v.o.Now()
	if exp != 0 && !now.Before(time.Unix(exp, 0)) {
		return nil, fault.InvalidToken("token expired")
	}
	row, err := v.o.Store.Tokens().Get(ctx, ten, jti)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.InvalidToken("token unknown")
		}
		return nil, fault.Unavailable(err)
	}
	switch {
	case row.Format != store.FormatCompact || row.Subject != sub:
		return nil, fault.InvalidToken("token unknown")
	case row.RevokedAt != nil && !now.Before(*row.RevokedAt):
		return nil, fault.InvalidToken("token revoked")
	case v.o.Revocations.RowReason(row) != "":
		return nil, fault.InvalidToken("%s", v.o.Revocations.RowReason(row))
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, fault.InvalidToken("token expired")
	}
	switch row.SubjectType {
	case "device":
		d, err := v.o.Store.Devices().Get(ctx, ten, sub)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, fault.InvalidToken("the device no longer exists")
		case err != nil:
			return nil, fault.Unavailable(err)
		case d.Disabled:
			return nil, fault.InvalidToken("the device is disabled")
		case d.JTI != jti:
			return nil, fault.InvalidToken("superseded: a newer token was generated for the device")
		}
	case "user":
		// Read from the store, as the row and the device: checked against
		// storage at every use.
		if err := userActive(ctx, storeUsers{v.o.Store}, ten, sub); err != nil {
			return nil, err
		}
	}
	c := ClaimsOf(v.o.PublicURL, row)
	if exp != 0 {
		c.ExpiresAt = exp
	}
	return &Identity{Tenant: ten, Claims: c, Format: store.FormatCompact}, nil
}

// userActive refuses a token whose user is gone or disabled, read from
// users.
func userActive(ctx context.Context, users Users, ten, id string) error {
	u, err := users.User(ctx, ten, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.InvalidToken("the user no longer exists")
	case err != nil:
		return fault.Unavailable(err)
	case u.Disabled:
		return fault.InvalidToken("the user is disabled")
	}
	return nil
}
