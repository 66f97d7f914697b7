package httpx

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// Certs serves the certificate of a PEM certificate file and key file,
// and swaps in a new one when the files change or Reload is called:
// connections already open keep the certificate they began with, new ones
// get the new one. A pair that does not load leaves the current one in
// use.
type Certs struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
	seen              [2]stamp
}

// stamp identifies a version of a file: a change of size, modification
// time or inode (a renamed-in replacement) is a new version.
type stamp struct {
	size  int64
	mod   time.Time
	inode uint64
}

// LoadCerts loads the pair or says why it cannot.
func LoadCerts(certFile, keyFile string, log *slog.Logger) (*Certs, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Certs{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the pair again; on failure the current certificate stays.
func (c *Certs) Reload() error {
	s := [2]stamp{statOf(c.certFile), statOf(c.keyFile)}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&pair)
	c.seen = s
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *Certs) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// Config is a server TLS configuration (TLS 1.2 or later) serving c.
func (c *Certs) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}

// Watch reloads the pair when a value arrives on hup (SIGHUP) or when
// either file changes (checked every interval), until ctx is done. Every
// reload and every failed one is logged.
func (c *Certs) Watch(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		why := ""
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "signal"
		case <-t.C:
			if [2]stamp{statOf(c.certFile), statOf(c.keyFile)} == c.seen {
				continue
			}
			why = "file change"
		}
		if err := c.Reload(); err != nil {
			c.log.Error("TLS certificate not reloaded; the current one stays in use", "reason", why, "error", err)
			continue
		}
		c.log.Info("TLS certificate reloaded", "reason", why, "not_after", c.cur.Load().Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}
