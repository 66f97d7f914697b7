package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// A baseline in its own process is the fair floor for a server that runs in
// its own process, as tokend does: the load generator and the server then
// each have their own Go runtime and compete for the CPUs the same way in
// both measurements. An in-process baseline (StartBaseline) shares one
// runtime with the load generator and measured 1.4-1.6 times the
// throughput of the same handler in its own process on a 2-core machine.

// ServeBaseline is the child side of StartBaselineProcess: it serves a
// baseline of kind on addr (a loopback host:port; port 0 picks a free one),
// writes the server's base URL as one line to out, and serves until stdin
// reaches its end (the parent closed it or exited) or ctx ends.
func ServeBaseline(ctx context.Context, addr, kind string, o BaselineOptions, stdin io.Reader, out io.Writer) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("loadgen: baseline address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadgen: baseline address %q: want a loopback IP address such as 127.0.0.1:0", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("loadgen: baseline listen: %w", err)
	}
	base, stop, err := startBaselineOn(ln, kind, o)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer stop()
	if _, err := fmt.Fprintln(out, base); err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return nil
}

// baselineStartTimeout bounds how long a baseline process may take to print
// its URL.
const baselineStartTimeout = 10 * time.Second

// StartBaselineProcess starts name with args, a command that serves a
// baseline the way ServeBaseline does (tokend bench baseline-server KIND),
// and returns the URL it printed and a function that stops it: stop closes
// the process's standard input, waits for it to exit and kills it if it
// has not within 5 s. The process also ends when ctx does.
func StartBaselineProcess(ctx context.Context, name string, args ...string) (url string, stop func(), err error) {
	cmd := exec.CommandContext(ctx, name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("loadgen: start baseline process: %w", err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = stdin.Close()
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
	}
	timer := time.NewTimer(baselineStartTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if ok && strings.HasPrefix(line, "http://") {
			if err := CheckLoopback(line); err == nil {
				return line, stop, nil
			}
		}
		stop()
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = fmt.Sprintf("printed %q instead of a loopback URL", line)
		}
		return "", nil, fmt.Errorf("loadgen: baseline process: %s", msg)
	case <-timer.C:
		stop()
		return "", nil, errors.New("loadgen: baseline process printed no URL within " + baselineStartTimeout.String())
	}
}

// limitedWriter keeps the first n bytes written to it. exec writes to it
// from one goroutine, and Wait returns only once that goroutine is done.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
