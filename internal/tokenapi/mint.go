package tokenapi

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/verify"
)

// Mint serves POST /t/{tenant}/tokens: a client mints a storefront,
// private or impersonation token for itself, authenticated by one of its
// own access tokens carrying that kind's creation scope
// (tokend:mint:<kind>), as seed 001's API accounts need a token-creation
// scope.
type Mint struct {
	Verifier *introspect.Verifier
	Mint     *mint.Minter
	MaxBody  int64
	Log      *slog.Logger
}

// Register adds the endpoint to mux.
func (m *Mint) Register(mux httpx.Router) {
	mux.HandleFunc("POST /t/{tenant}/tokens", m.serve)
}

func (m *Mint) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := m.mint(w, r); err != nil {
		httpx.WriteError(w, r, m.Log, err)
	}
}

func (m *Mint) mint(w http.ResponseWriter, r *http.Request) error {
	raw, ok := verify.BearerToken(r)
	if !ok {
		return fault.InvalidToken("an access token of the minting client is required")
	}
	id, err := m.Verifier.Verify(r.Context(), raw)
	if err != nil {
		return err
	}
	ten := r.PathValue("tenant")
	if id.Tenant != ten || id.Claims.SubjectType != "client" || id.Claims.Kind != claims.KindAccess {
		return fault.InvalidToken("the token must be a client's access token of tenant %s", ten)
	}
	var sp mint.KindSpec
	if err := httpx.DecodeJSON(r, m.MaxBody, &sp); err != nil {
		return err
	}
	if !slices.Contains(mint.MintableKinds, sp.Kind) {
		return fault.Invalid("kind", "kind: must be one of %s", strings.Join(mint.MintableKinds, ", "))
	}
	res, err := m.Mint.Kind(r.Context(), mint.Actor{Tenant: ten, Subject: id.Claims.Subject, ClientID: id.Claims.ClientID}, id.Claims.Scopes(),
		ten, id.Claims.Subject, sp)
	if err != nil {
		return err
	}
	out := map[string]any{"id": res.ID, "token": res.Value, "kind": sp.Kind}
	if res.ExpiresAt != nil {
		out["expires_at"] = res.ExpiresAt.Truncate(time.Second).Unix()
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}
