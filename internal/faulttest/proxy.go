// Package faulttest puts a loopback TCP proxy between a program under test
// and a real server, so that a test can make the server hang or vanish
// without touching the server itself: Pause stops forwarding (connections
// stay open and new ones are accepted, but nothing arrives either way: a
// frozen server), Cut closes every connection and drops new ones at once (a
// server gone away), Resume forwards again.
package faulttest

import (
	"errors"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards loopback TCP connections to a target address. Safe for
// concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	state state
	// resumed is closed when forwarding resumes after Pause.
	resumed chan struct{}
	pairs   map[*pair]struct{}
	closed  bool
	wg      sync.WaitGroup
}

type state int

const (
	forwarding state = iota
	paused
	cut
)

// Start listens on a free loopback port and forwards every connection to
// target (host:port) until the test ends. It fails the test unless target
// is a loopback address.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		t.Fatalf("faulttest: target %q: %v", target, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Fatalf("faulttest: target %q is not a loopback address", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, pairs: map[*pair]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// StartFor is Start for the server a URL names (say a postgres:// URL):
// it returns the proxy and the same URL through it.
func StartFor(t testing.TB, rawURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p := Start(t, u.Host)
	proxied, err := p.URL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return p, proxied
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns rawURL (e.g. a postgres:// URL of the target) with its host
// and port replaced by the proxy's.
func (p *Proxy) URL(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", errors.New("faulttest: URL has no host")
	}
	u.Host = p.Addr()
	return u.String(), nil
}

// Pause stops forwarding: bytes sent either way are held (and delivered on
// Resume), so the peers see a server that accepts connections and then
// never answers. A connection whose client closes it while paused is closed
// on the target's side too, so abandoned server sessions end.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == forwarding {
		p.resumed = make(chan struct{})
	}
	p.state = paused
}

// Cut closes every open connection and, until Resume, closes new ones as
// soon as they are accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	if p.state == paused {
		close(p.resumed)
	}
	p.state = cut
	pairs := p.takePairs()
	p.mu.Unlock()
	for _, c := range pairs {
		c.close()
	}
}

// Resume forwards again; after Pause, held bytes are delivered first.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == paused {
		close(p.resumed)
	}
	p.state = forwarding
}

// Close stops the proxy and closes every connection. Start arranges for it
// to run when the test ends.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.state == paused {
		close(p.resumed)
		p.state = forwarding
	}
	pairs := p.takePairs()
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range pairs {
		c.close()
	}
	p.wg.Wait()
}

// takePairs empties the connection set; p.mu is held.
func (p *Proxy) takePairs() []*pair {
	l := make([]*pair, 0, len(p.pairs))
	for c := range p.pairs {
		l = append(l, c)
	}
	clear(p.pairs)
	return l
}

// gate returns nil while forwarding, else the channel closed on Resume.
func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == paused {
		return p.resumed
	}
	return nil
}

func (p *Proxy) isPaused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == paused
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed || p.state == cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pr := &pair{c: c, s: s, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed || p.state == cut {
			p.mu.Unlock()
			pr.close()
			continue
		}
		p.pairs[pr] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pr, c, s)
		go p.pipe(pr, s, c)
	}
}

// pair is one proxied connection: c to the client, s to the target.
type pair struct {
	c, s net.Conn
	once sync.Once
	done chan struct{}
}

func (pr *pair) close() {
	pr.once.Do(func() {
		close(pr.done)
		pr.c.Close()
		pr.s.Close()
	})
}

// pipe copies src to dst. Reading never stops, so that a peer's close is
// seen even while paused; writing waits while paused.
func (p *Proxy) pipe(pr *pair, src, dst net.Conn) {
	defer p.wg.Done()
	defer p.forget(pr)
	defer pr.close()
	chunks := make(chan []byte, 64)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- buf[:n]:
				case <-pr.done:
					return
				}
			}
			if err != nil {
				if p.isPaused() {
					pr.close() // a frozen server never delivers what is held
				}
				return
			}
		}
	}()
	for b := range chunks {
		if g := p.gate(); g != nil {
			select {
			case <-g:
			case <-pr.done:
				return
			}
		}
		if _, err := dst.Write(b); err != nil {
			return
		}
	}
}

func (p *Proxy) forget(pr *pair) {
	p.mu.Lock()
	delete(p.pairs, pr)
	p.mu.Unlock()
}
