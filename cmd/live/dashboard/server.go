package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Server serves a handler (a Dashboard) on one address until Shutdown.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error
}

// Listen listens on addr and serves h in the background. addr is
// host:port or a port; an empty host means 127.0.0.1, so ":8080" and
// "8080" listen on loopback only, and an empty addr on a free port of
// 127.0.0.1. Listening beyond loopback takes an explicit host (such as
// "0.0.0.0:8080"). On loopback, requests must name a loopback host
// (localhost or a loopback address), which keeps other sites' pages out
// through DNS rebinding.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	host, port, err := splitAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen on %s: %w", net.JoinHostPort(host, port), err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; ip.IsLoopback() {
		h = loopbackOnly(h)
	} else {
		log.Warn("dashboard: listening beyond loopback, as asked: anyone who can reach this address can freeze learning and save checkpoints",
			"addr", ln.Addr().String())
	}
	s := &Server{ln: ln, done: make(chan struct{}), srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}}
	if d, ok := unwrapDashboard(h); ok {
		// Shutdown does not know hijacked connections: the dashboard ends
		// its WebSockets itself.
		s.srv.RegisterOnShutdown(d.disconnect)
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			log.Error("dashboard: serve", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return s, nil
}

func splitAddr(addr string) (host, port string, err error) {
	if addr == "" {
		return "127.0.0.1", "0", nil
	}
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("dashboard: address %q: want host:port or a port: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}

// unwrapDashboard finds the Dashboard behind the handlers Listen adds.
func unwrapDashboard(h http.Handler) (*Dashboard, bool) {
	for {
		switch v := h.(type) {
		case *Dashboard:
			return v, true
		case loopbackHandler:
			h = v.h
		default:
			return nil, false
		}
	}
}

type loopbackHandler struct{ h http.Handler }

func loopbackOnly(h http.Handler) http.Handler { return loopbackHandler{h} }

func (l loopbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		writeError(w, http.StatusForbidden, "host %q not allowed: this server listens on loopback only; use localhost or 127.0.0.1", r.Host)
		return
	}
	l.h.ServeHTTP(w, r)
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the page's address, http://host:port/.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Done is closed when the server has stopped serving.
func (s *Server) Done() <-chan struct{} { return s.done }

// Shutdown stops listening, disconnects the dashboard's browsers, waits
// for requests in flight (until ctx ends) and returns the error that
// stopped serving, if any besides the shutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	select {
	case <-s.done:
		if err == nil {
			err = s.err
		}
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("dashboard: shutdown: %w", err)
	}
	return nil
}
