package authn

import (
	"context"
	"math"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/reqctx"
)

// Throttle slows password guessing: after Free failures on one account
// (or AddrFree from one remote address), each further failure blocks the
// key for Base, doubling up to Max. Counters live in the database, so
// every replica sees the same ones. Accounts are keyed by the login as
// typed (normalised), so an unknown login is throttled exactly like a
// known one and the answer reveals nothing about which accounts exist.
type Throttle struct {
	Free, AddrFree int
	Base, Max      time.Duration
}

// DefaultThrottle allows 5 failures per account and 20 per address, then
// blocks for 1 s, doubling up to 15 minutes.
func DefaultThrottle() *Throttle {
	return &Throttle{Free: 5, AddrFree: 20, Base: time.Second, Max: 15 * time.Minute}
}

func (t *Throttle) backoff(free int) func(int) time.Duration {
	return func(failures int) time.Duration {
		over := failures - free
		if over <= 0 {
			return 0
		}
		d := time.Duration(float64(t.Base) * math.Pow(2, float64(min(over-1, 30))))
		return min(d, t.Max)
	}
}

func accountKey(tenant, login string) string { return "acct\x1f" + tenant + "\x1f" + login }

// addrKey keys the failures from the request's address in one tenant, so
// that guessing in one tenant never blocks logins to another.
func addrKey(ctx context.Context, tenant string) string {
	if a := reqctx.Source(reqctx.From(ctx).RemoteAddr); a != "" {
		return "addr\x1f" + tenant + "\x1f" + a
	}
	return ""
}

// check refuses an attempt while the account or the address is blocked,
// before any password hashing is spent on it.
func (a *Authenticator) throttleCheck(ctx context.Context, tenant, login string) error {
	now := a.now()
	for _, k := range []string{accountKey(tenant, login), addrKey(ctx, tenant)} {
		if k == "" {
			continue
		}
		_, until, err := a.st.Throttle().Get(ctx, k)
		if err != nil {
			return fault.Unavailable(err)
		}
		if until.After(now) {
			wait := int(math.Ceil(until.Sub(now).Seconds()))
			return fault.RateLimited("too many failed logins; retry in %d s", wait).WithRetryAfter(until.Sub(now)).WithCause(fault.ErrLoginThrottled)
		}
	}
	return nil
}

// throttleFail counts a failed attempt on the account and the address.
func (a *Authenticator) throttleFail(ctx context.Context, tenant, login string) {
	now := a.now()
	if _, err := a.st.Throttle().Fail(ctx, accountKey(tenant, login), now, a.throttle.backoff(a.throttle.Free)); err != nil {
		a.log.WarnContext(ctx, "login throttle not updated", "error", err)
	}
	if k := addrKey(ctx, tenant); k != "" {
		if _, err := a.st.Throttle().Fail(ctx, k, now, a.throttle.backoff(a.throttle.AddrFree)); err != nil {
			a.log.WarnContext(ctx, "login throttle not updated", "error", err)
		}
	}
}

// throttleReset forgets an account's failures after a successful login.
func (a *Authenticator) throttleReset(ctx context.Context, tenant, login string) {
	if n, _, err := a.st.Throttle().Get(ctx, accountKey(tenant, login)); err == nil && n > 0 {
		_ = a.st.Throttle().Reset(ctx, accountKey(tenant, login))
	}
}
