package authn

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// CustomerLoginWindow is how far a customer login JWT's iat may be from
// now: BigCommerce's customer login JWTs are valid for 30 seconds
// (docs/start/authentication/customer-login.mdx).
const CustomerLoginWindow = 30 * time.Second

// CustomerLogin is a verified customer login JWT (seed 001).
type CustomerLogin struct {
	// ClientID is the API account that signed it (iss).
	ClientID string
	// CustomerID is the customer to sign in (customer_id).
	CustomerID string
	// ChannelID is the channel it names, "" when it names none.
	ChannelID string
	// RedirectTo is where it asks to go next, "" when it does not say.
	RedirectTo string
}

// customerLoginClaims are the claims of a customer login JWT.
type customerLoginClaims struct {
	Issuer     string       `json:"iss"`
	IssuedAt   *json.Number `json:"iat"`
	ID         string       `json:"jti"`
	Operation  string       `json:"operation"`
	StoreHash  string       `json:"store_hash"`
	CustomerID *json.Number `json:"customer_id"`
	ChannelID  *json.Number `json:"channel_id"`
	RedirectTo string       `json:"redirect_to"`
	RequestIP  string       `json:"request_ip"`
}

func (c *customerLoginClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c *customerLoginClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (c *customerLoginClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *customerLoginClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *customerLoginClaims) GetSubject() (string, error)                  { return "", nil }
func (c *customerLoginClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

var errCustomerLogin = fault.InvalidGrant("invalid customer login JWT")

// CustomerLoginJWT verifies BigCommerce's customer login JWT for the
// store storeHash of tenant: HS256 under the signing secret of the client
// named by iss (an API account of the tenant; client secrets are stored
// as hashes and cannot key an HMAC), operation "customer_login", the
// store hash, an integer customer_id, an optional integer channel_id,
// iat within CustomerLoginWindow of now, and a jti used once on any
// replica. Every failure is the same invalid_grant fault.
func (a *Authenticator) CustomerLoginJWT(ctx context.Context, tenantID, storeHash, raw string) (CustomerLogin, error) {
	var peek customerLoginClaims
	if _, _, err := jwt.NewParser(jwt.WithJSONNumber()).ParseUnverified(raw, &peek); err != nil || peek.Issuer == "" {
		return CustomerLogin{}, errCustomerLogin
	}
	if a.secrets == nil {
		return CustomerLogin{}, errCustomerLogin
	}
	key, err := a.secrets.ClientSigningKey(ctx, tenantID, peek.Issuer)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeUnavailable {
			return CustomerLogin{}, err
		}
		return CustomerLogin{}, errCustomerLogin
	}
	var c customerLoginClaims
	if _, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithJSONNumber(), jwt.WithStrictDecoding()).
		ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		return CustomerLogin{}, errCustomerLogin
	}
	iat, ok := intClaim(c.IssuedAt)
	now := a.now()
	if !ok || c.Operation != "customer_login" || c.StoreHash != storeHash || c.ID == "" || len(c.ID) > 200 {
		return CustomerLogin{}, errCustomerLogin
	}
	if d := now.Sub(time.Unix(iat, 0)); d > CustomerLoginWindow || d < -CustomerLoginWindow {
		return CustomerLogin{}, errCustomerLogin
	}
	cust, ok := intClaim(c.CustomerID)
	if !ok || cust < 1 {
		return CustomerLogin{}, errCustomerLogin
	}
	out := CustomerLogin{ClientID: c.Issuer, CustomerID: strconv.FormatInt(cust, 10), RedirectTo: c.RedirectTo}
	if c.ChannelID != nil {
		ch, ok := intClaim(c.ChannelID)
		if !ok || ch < 1 {
			return CustomerLogin{}, errCustomerLogin
		}
		out.ChannelID = strconv.FormatInt(ch, 10)
	}
	if err := a.st.Nonces().Use(ctx, "custlogin|"+tenantID+"|"+c.Issuer+"|"+c.ID, time.Unix(iat, 0).Add(2*CustomerLoginWindow)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return CustomerLogin{}, errCustomerLogin
		}
		return CustomerLogin{}, fault.Unavailable(err)
	}
	return out, nil
}

func intClaim(n *json.Number) (int64, bool) {
	if n == nil {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}
