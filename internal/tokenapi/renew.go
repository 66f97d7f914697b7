package tokenapi

import (
	"log/slog"
	"net/http"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/verify"
)

// Renew serves POST /t/{tenant}/tokens/renew: the bearer of a live token
// with a lifetime exchanges it for a new one (see mint.Minter.Renew).
type Renew struct {
	Verifier *introspect.Verifier
	Mint     *mint.Minter
	Log      *slog.Logger
}

// Register adds the renewal endpoint to mux.
func (rn *Renew) Register(mux httpx.Router) {
	mux.HandleFunc("POST /t/{tenant}/tokens/renew", rn.serve)
}

func (rn *Renew) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	raw, ok := verify.BearerToken(r)
	if !ok {
		httpx.WriteError(w, r, rn.Log, fault.InvalidToken("the token to renew goes in Authorization: Bearer"))
		return
	}
	id, err := rn.Verifier.Verify(r.Context(), raw)
	if err == nil && id.Tenant != r.PathValue("tenant") {
		err = fault.InvalidToken("token of another tenant")
	}
	if err != nil {
		httpx.WriteError(w, r, rn.Log, err)
		return
	}
	if err := verify.CheckUse(&id.Claims, r.Header); err != nil {
		verify.WriteError(w, err)
		return
	}
	res, err := rn.Mint.Renew(r.Context(), id.Tenant, id.Claims, id.Format)
	if err != nil {
		httpx.WriteError(w, r, rn.Log, err)
		return
	}
	out := map[string]any{"id": res.ID, "access_token": res.Value, "token_type": "Bearer", "expires_in": res.ExpiresIn()}
	if res.LifetimeEnd != nil {
		out["lifetime_end"] = res.LifetimeEnd.Unix()
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
