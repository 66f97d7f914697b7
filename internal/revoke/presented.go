package revoke

import (
	"context"
	"errors"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// JWTs verifies a presented JWT; *introspect.Verifier is one.
type JWTs interface {
	Verify(ctx context.Context, raw string) (*introspect.Identity, error)
}

// Presented revokes the token raw (opaque or JWT) that client clientID of
// tenantID presents for revocation (RFC 7009 §2.1). Unknown, malformed,
// expired, revoked and other tenants' tokens need nothing done and return
// nil (RFC 7009 §2.2: the endpoint answers 200 for them); a token issued to
// another client is an unauthorized_client fault. A refresh token takes
// its whole family (its session) with it; any other token only itself.
// A revocation still ahead (a renewed token in its grace) is brought
// forward.
func (s *Service) Presented(ctx context.Context, v JWTs, tenantID, clientID, raw string) error {
	row, ok, err := s.presentedRow(ctx, v, tenantID, raw)
	if err != nil || !ok {
		return err
	}
	if row.Tenant != tenantID || (row.RevokedAt != nil && s.RowReason(row) != "") {
		return nil
	}
	if row.ClientID != clientID {
		return fault.UnauthorizedClient("the token was not issued to this client")
	}
	by := Actor{Name: "client:" + clientID, ClientID: clientID}
	if row.Kind == claims.KindRefresh && row.SessionID != "" {
		_, err := s.BeforeIn(ctx, s.st, by, tenantID, store.RevokeSession, row.SessionID, "token.revoke_family")
		return err
	}
	_, err = s.Token(ctx, by, tenantID, row.ID)
	if fault.CodeOf(err) == fault.CodeNotFound {
		return nil
	}
	return err
}

// presentedRow finds the ledger row of raw; ok is false when there is
// none to revoke.
func (s *Service) presentedRow(ctx context.Context, v JWTs, tenantID, raw string) (store.Token, bool, error) {
	var (
		t   store.Token
		err error
	)
	if token.IsHex(raw) {
		t, err = s.st.Tokens().GetByHash(ctx, token.Hash(token.CanonicalHex(raw)))
	} else if token.IsOpaque(raw) {
		if _, perr := token.ParseOpaque(raw); perr != nil {
			return store.Token{}, false, nil
		}
		t, err = s.st.Tokens().GetByHash(ctx, token.Hash(raw))
	} else {
		id, verr := v.Verify(ctx, raw)
		if verr != nil {
			if fault.CodeOf(verr) == fault.CodeUnavailable {
				return store.Token{}, false, verr
			}
			return store.Token{}, false, nil
		}
		if id.Tenant != tenantID {
			return store.Token{}, false, nil
		}
		t, err = s.st.Tokens().Get(ctx, tenantID, id.Claims.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, false, nil
	}
	if err != nil {
		return store.Token{}, false, fault.Unavailable(err)
	}
	return t, true, nil
}
