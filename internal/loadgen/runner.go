package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// runner is one prepared load: its target and workers.
type runner struct {
	c       Config
	client  *http.Client
	t       *target
	workers []*worker
	builds  []func() []byte
	checks  []checkFunc
	stops   []func()
	res     Result
}

// close releases what setupRun acquired.
func (r *runner) close() {
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
	for _, w := range r.workers {
		if w.own {
			w.client.CloseIdleConnections()
		}
	}
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i]()
	}
}

// setupRun does the setup of c (which must be valid): it starts a baseline
// server if c needs one, does the mode's setup requests and creates the
// workers. The returned runner, even with an error, must be closed.
func setupRun(ctx context.Context, c Config) (*runner, error) {
	r := &runner{c: c}
	if IsBaseline(c.Mode) && c.Endpoint == "" {
		base, stop, err := StartBaselineWith(c.Mode, BaselineOptions{Database: c.BaselineDatabase})
		if err != nil {
			return r, err
		}
		r.stops = append(r.stops, stop)
		c.Endpoint = base
		r.c.Endpoint = base
	}
	if err := CheckLoopback(c.Endpoint); err != nil {
		return r, fmt.Errorf("loadgen: %w", err)
	}
	r.client = newClient(c.Concurrency)

	t, err := prepare(ctx, c, r.client)
	if err != nil {
		return r, fmt.Errorf("loadgen: %s: %w", c.Mode, err)
	}
	r.t = t
	if t.stop != nil {
		r.stops = append(r.stops, t.stop)
	}

	// Size sample slices: at most MaxSamples in total, and no more than the
	// request cap needs; grow by append beyond a modest start.
	perWorker := MaxSamples / c.Concurrency
	initial := min(perWorker, 1<<14)
	if c.Requests > 0 {
		initial = int(min(int64(initial), c.Requests/int64(c.Concurrency)+1))
	}
	r.workers = make([]*worker, c.Concurrency)
	r.builds = make([]func() []byte, c.Concurrency)
	r.checks = make([]checkFunc, c.Concurrency)
	for i := range r.workers {
		r.workers[i] = &worker{id: i, client: r.client, t: t, lat: make([]time.Duration, 0, initial), maxLat: perWorker}
	}

	// Per-worker setup (the refresh mode's password grants) runs in
	// parallel, before the clock starts.
	if t.next != nil {
		var wg sync.WaitGroup
		errs := make([]error, len(r.workers))
		for i, w := range r.workers {
			wg.Go(func() { r.builds[i], r.checks[i], errs[i] = t.next(w) })
		}
		wg.Wait()
		// Report the first error only: with many workers they are usually
		// all the same.
		for _, e := range errs {
			if e != nil {
				return r, fmt.Errorf("loadgen: %s: %w", c.Mode, e)
			}
		}
	}
	return r, nil
}

// prepare returns the target of c.Mode, doing the mode's one-off setup
// requests (getting and perhaps revoking a token).
func prepare(ctx context.Context, c Config, client *http.Client) (*target, error) {
	auth := ""
	if c.ClientID != "" {
		auth = basicAuth(c.ClientID, c.ClientSecret)
	}
	switch c.Mode {
	case ModeIssue:
		return prepareIssue(ctx, c, client, auth)
	case ModeIntrospect, ModeIntrospectRevoked:
		return prepareIntrospect(ctx, c, client, auth)
	case ModeCheck:
		return prepareCheck(ctx, c, client, auth)
	case ModeVerifyLib:
		return prepareVerifyLib(ctx, c, client, auth)
	case ModeRefresh:
		return prepareRefresh(ctx, c, client, auth)
	case ModeBadPassword:
		return prepareBadPassword(ctx, c, client, auth)
	case ModePassword:
		return preparePassword(ctx, c, client, auth)
	case ModeDotkernelToken:
		return prepareDotkernelToken(ctx, c, client)
	case ModeDotkernelRefresh:
		return prepareDotkernelRefresh(ctx, c, client)
	case ModeBaselineSign:
		return prepareBaselineSign(ctx, c, client, auth)
	case ModeBaselineVerify:
		return prepareBaselineVerify(ctx, c, client, auth)
	case ModeBaselineDurable:
		return prepareBaselineDurable(ctx, c, client, auth)
	case ModeDeviceMint, ModeStoreToken:
		return prepareStoreToken(ctx, c, client)
	case ModeKindMint, ModeBigCommerceToken, ModeCustomerLogin, ModeBigCommerceLogin:
		return prepareBigCommerce(ctx, c, client)
	case ModeSignedDevice:
		return prepareSignedDevice(ctx, c, client, auth)
	case ModeApstrata:
		return prepareApstrata(ctx, c, client, auth)
	case ModeTokenExchange:
		return prepareTokenExchange(ctx, c, client, auth)
	case ModeTenantAuthToken, ModeTenantAuthOIDC:
		return prepareTenantAuth(ctx, c, client)
	}
	return nil, fmt.Errorf("unknown mode %q", c.Mode)
}

// run drives the workers over the window that ends at deadline, measuring
// from measureFrom, stores the result in r.res and returns it. ctx ending
// stops the run.
func (r *runner) run(ctx context.Context, measureFrom, deadline time.Time) Result {
	c := r.c
	// Hard stop: the deadline plus one request timeout.
	runCtx, cancel := context.WithDeadline(ctx, deadline.Add(RequestTimeout))
	defer cancel()

	var started atomic.Int64 // measured requests started, for the cap
	var wg sync.WaitGroup
	for i, w := range r.workers {
		build, check := r.builds[i], r.checks[i]
		if check == nil {
			check = r.t.check
		}
		wg.Go(func() { w.loop(runCtx, ctx, build, check, measureFrom, deadline, c.Requests, &started) })
	}
	wg.Wait()
	end := time.Now()

	res := Result{Mode: c.Mode, Concurrency: c.Concurrency, Note: r.t.note}
	if r.t.sources != nil {
		res.SourceAddrs = r.t.sources.used()
	}
	if end.After(measureFrom) {
		res.Duration = end.Sub(measureFrom)
	}
	n := 0
	for _, w := range r.workers {
		n += len(w.lat)
	}
	all := make([]time.Duration, 0, n)
	var firstT time.Time
	for _, w := range r.workers {
		res.Requests += w.reqs
		res.Errors += w.errs
		res.Rejected400 += w.n400
		res.Throttled429 += w.n429
		all = append(all, w.lat...)
		if w.first != "" && (res.FirstError == "" || w.firstT.Before(firstT)) {
			res.FirstError, firstT = w.first, w.firstT
		}
		w.lat = nil
	}
	slices.Sort(all)
	res.Samples = int64(len(all))
	res.P50 = Percentile(all, 50)
	res.P99 = Percentile(all, 99)
	res.P999 = Percentile(all, 99.9)
	if len(all) > 0 {
		res.Max = all[len(all)-1]
	}
	if res.Duration > 0 {
		res.RPS = float64(res.Requests) / res.Duration.Seconds()
	}
	r.res = res
	return res
}

// loop sends requests until deadline (or the request cap, or ctx ending)
// and records the measured ones. runCtx bounds each request; parent is the
// caller's context, whose end stops the loop without counting the request
// it interrupted.
func (w *worker) loop(runCtx, parent context.Context, build func() []byte, check checkFunc,
	measureFrom, deadline time.Time, limit int64, started *atomic.Int64) {
	for {
		if runCtx.Err() != nil {
			return
		}
		t0 := time.Now()
		if !t0.Before(deadline) {
			return
		}
		measured := !t0.Before(measureFrom)
		if measured && limit > 0 && started.Add(1) > limit {
			return
		}
		if w.t.sources != nil && w.sent%RotateEvery == 0 {
			w.rotate()
			t0 = time.Now()
		}
		w.sent++
		body := w.t.body
		if build != nil {
			body = build()
		}
		method := w.t.method
		if method == "" {
			method = http.MethodPost
		}
		u := w.t.url
		if w.url != "" {
			u = w.url
		}
		st, resp, err := w.send(runCtx, method, u, body)
		lat := time.Since(t0)
		if err == nil {
			err = check(st, resp)
		}
		if parent.Err() != nil {
			return // interrupted by the caller: not a server failure
		}
		if !measured {
			continue
		}
		w.reqs++
		if err != nil {
			w.fail(err)
			continue
		}
		switch st {
		case http.StatusBadRequest:
			w.n400++
		case http.StatusTooManyRequests:
			w.n429++
		}
		if len(w.lat) < w.maxLat {
			w.lat = append(w.lat, lat)
		}
	}
}
