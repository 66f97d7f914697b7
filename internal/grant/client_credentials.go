package grant

import (
	"context"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// clientCredentials is RFC 6749 §4.4: the client acts for itself. Only a
// confidential client (a secret or an RFC 7523 assertion) may use it; no refresh token is issued (§4.4.3).
type clientCredentials struct{}

func (clientCredentials) Authorize(_ context.Context, _ *Engine, r *Request, c store.Client, _ store.Policy) (*Subject, error) {
	if r.Client.Assertion == "" && !c.Confidential() {
		return nil, fault.UnauthorizedClient("a public client cannot use client_credentials")
	}
	return &Subject{Type: "client", ID: c.ID}, nil
}
