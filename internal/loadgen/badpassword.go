package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// prepareBadPassword is ModeBadPassword: a login flood of unique unknown
// usernames, from rotating source addresses when they can be dialled from.
func prepareBadPassword(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	t := &target{url: c.oauthURL("token"), auth: auth, check: expectLoginRefused}
	if err := probeSource(ctx, c.Endpoint); err != nil {
		t.note = fmt.Sprintf("cannot send from 127.0.0.%d (%v): every request comes from the default source address, so the server's per-address login throttle answers most of them 429", firstSourceHost, err)
	} else {
		t.sources = &sourcePool{}
	}
	// A per-run nonce keeps usernames unique across runs too.
	nonce := strconv.FormatUint(rand.Uint64()>>40, 36)
	t.next = func(w *worker) (func() []byte, checkFunc, error) {
		prefix := "grant_type=password&username=" + url.QueryEscape("flood-"+nonce+"-"+strconv.Itoa(w.id)+"-")
		n := 0
		var b []byte
		build := func() []byte {
			b = append(b[:0], prefix...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, "%40example.invalid&password=wrong-"...)
			b = strconv.AppendUint(b, rand.Uint64(), 36)
			n++
			return b
		}
		return build, expectLoginRefused, nil
	}
	return t, nil
}

// sourcePool hands out loopback source addresses 127.0.0.X, X cycling over
// firstSourceHost..lastSourceHost, shared by the workers of one run so that
// consecutive rotations spread over all of them.
type sourcePool struct {
	next atomic.Int64
}

// take returns the next source address.
func (p *sourcePool) take() *net.TCPAddr {
	n := p.next.Add(1) - 1
	x := firstSourceHost + int(n%(lastSourceHost-firstSourceHost+1))
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(x))}
}

// used returns how many distinct addresses were handed out.
func (p *sourcePool) used() int {
	return int(min(p.next.Load(), lastSourceHost-firstSourceHost+1))
}

// rotate moves the worker to a client dialling from the next source
// address, closing the idle connections of its previous one.
func (w *worker) rotate() {
	old, own := w.client, w.own
	w.client, w.own = newClientFrom(1, w.t.sources.take()), true
	if own {
		old.CloseIdleConnections()
	}
}

// expectLoginRefused is the check of ModeBadPassword: 400 with error
// "invalid_grant", or 429.
func expectLoginRefused(status int, body []byte) error {
	switch status {
	case http.StatusTooManyRequests:
		return nil
	case http.StatusBadRequest:
		var r struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("HTTP 400 response: %w", err)
		}
		if r.Error != "invalid_grant" {
			return statusError(status, body)
		}
		return nil
	}
	return statusError(status, body)
}

// probeSource reports whether a connection to endpoint can be dialled from
// the first rotating source address.
func probeSource(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, firstSourceHost)}}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	return conn.Close()
}
