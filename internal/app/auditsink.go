package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend/internal/auditsink"
	"github.com/tokend/tokend/internal/buildinfo"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store"
)

// newAuditSinks builds the forwarders of --audit-webhook and
// --audit-syslog, each with its cursor in the data directory
// (audit-sink-webhook.json, audit-sink-syslog.json), and registers their
// metrics.
func (a *App) newAuditSinks(cfg config.Config, st store.Store) error {
	var sinks []auditsink.Sink
	if cfg.AuditWebhook != "" {
		key := []byte(cfg.AuditWebhookSecret)
		if cfg.AuditWebhookSecretFile != "" {
			b, err := os.ReadFile(cfg.AuditWebhookSecretFile)
			if err != nil {
				return fmt.Errorf("audit-webhook-secret-file: %w", err)
			}
			key = []byte(strings.TrimSpace(string(b)))
			if len(key) < config.MinAuditWebhookSecret {
				return fmt.Errorf("audit-webhook-secret-file: the HMAC key must be at least %d bytes, got %d", config.MinAuditWebhookSecret, len(key))
			}
		}
		w, err := auditsink.NewWebhook(cfg.AuditWebhook, key, cfg.AuditWebhookTimeout, "tokend/"+buildinfo.Get().Version)
		if err != nil {
			return err
		}
		sinks = append(sinks, w)
	}
	if cfg.AuditSyslog != "" {
		network, addr, err := config.ParseSyslog(cfg.AuditSyslog)
		if err != nil {
			return fmt.Errorf("audit-syslog: %w", err)
		}
		sinks = append(sinks, auditsink.NewSyslog(network, addr))
	}
	if len(sinks) == 0 {
		return nil
	}
	delivered := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_audit_sink_events_total", Help: "Audit events delivered to a sink (webhook, syslog); at least once, so a retried batch counts again.",
	}, []string{"sink"})
	failed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_audit_sink_failures_total", Help: "Failed attempts to deliver a batch of audit events to a sink (webhook, syslog).",
	}, []string{"sink"})
	a.registry.MustRegister(delivered, failed)
	for _, s := range sinks {
		d, fl := delivered.WithLabelValues(s.Name()), failed.WithLabelValues(s.Name())
		f, err := auditsink.New(auditsink.Options{Store: st, Sink: s, Log: a.log,
			Cursor:    filepath.Join(cfg.DataDir, "audit-sink-"+s.Name()+".json"),
			Interval:  cfg.AuditSinkInterval,
			Delivered: func(n int) { d.Add(float64(n)) }, Failed: fl.Inc})
		if err != nil {
			return err
		}
		a.sinks = append(a.sinks, f)
	}
	return nil
}

// runAuditSinks runs the forwarders until ctx is done; Close waits for them.
func (a *App) runAuditSinks(ctx context.Context) {
	for _, f := range a.sinks {
		a.sinkRuns.Add(1)
		go func() {
			defer a.sinkRuns.Done()
			f.Run(ctx)
		}()
	}
}

// wakeAuditSinks tells the forwarders an event was recorded.
func (a *App) wakeAuditSinks() {
	for _, f := range a.sinks {
		f.Wake()
	}
}
