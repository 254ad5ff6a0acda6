package natsbus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultPort is the port the embedded server listens on when none is
// given: the NATS default, so that the nats CLI finds it without flags.
const DefaultPort = 4222

// RandomPort asks the operating system for a free port (for tests).
const RandomPort = -1

// ErrServer is returned when the embedded server cannot start.
var ErrServer = errors.New("natsbus: embedded server")

// ServerConfig configures the embedded NATS server.
type ServerConfig struct {
	// Host is the address to listen on; empty means 127.0.0.1. An address
	// that is not loopback is refused unless AllowRemote is set.
	Host string
	// AllowRemote permits a Host beyond the loopback interface.
	AllowRemote bool
	// Port to listen on: 0 means DefaultPort, RandomPort lets the system
	// choose (read it back with Server.Port).
	Port int
	// StoreDir enables JetStream with its file storage in this directory.
	// Without it JetStream is off.
	StoreDir string
	// User and Password, or Token, when set, are required of every client.
	User, Password string
	Token          string
	// TLS, when set, makes the server require TLS with this configuration;
	// set ClientAuth and ClientCAs in it to require client certificates.
	TLS *tls.Config
	// MaxPayload is the largest message accepted, in bytes; 0 keeps the
	// NATS default of 1 MiB.
	MaxPayload int32
	// ReadyTimeout bounds the wait for the server to accept connections;
	// 0 means 10 s.
	ReadyTimeout time.Duration
	// Logger receives the server's log (notices at Info); nil means
	// slog.Default().
	Logger *slog.Logger
}

// Server is an embedded NATS server running in this process.
type Server struct {
	ns   *server.Server
	cfg  ServerConfig
	port int
}

// StartServer starts an embedded NATS server and waits until it accepts
// connections. It installs no signal handlers and opens no monitoring
// port.
func StartServer(cfg ServerConfig) (*Server, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if !cfg.AllowRemote && !isLoopback(cfg.Host) {
		return nil, fmt.Errorf("%w: host %q is not loopback; set AllowRemote to listen beyond this machine", ErrServer, cfg.Host)
	}
	if cfg.Token != "" && (cfg.User != "" || cfg.Password != "") {
		return nil, fmt.Errorf("%w: token and user/password are exclusive", ErrServer)
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultPort
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	opts := &server.Options{
		ServerName:             "clapp-embedded",
		Host:                   cfg.Host,
		Port:                   port,
		NoSigs:                 true,
		JetStream:              cfg.StoreDir != "",
		StoreDir:               cfg.StoreDir,
		Username:               cfg.User,
		Password:               cfg.Password,
		Authorization:          cfg.Token,
		TLSConfig:              cfg.TLS,
		MaxPayload:             cfg.MaxPayload,
		DisableJetStreamBanner: true,
	}
	if cfg.TLS != nil {
		opts.TLSTimeout = 2 // seconds for the handshake
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	ns.SetLoggerV2(&serverLog{cfg.Logger.With("component", "nats-server")}, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w: not ready on %s after %v (port in use, or JetStream store %q unusable? see the log)",
			ErrServer, net.JoinHostPort(cfg.Host, strconv.Itoa(port)), cfg.ReadyTimeout, cfg.StoreDir)
	}
	if cfg.StoreDir != "" && !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w: JetStream did not start with store %q", ErrServer, cfg.StoreDir)
	}
	s := &Server{ns: ns, cfg: cfg, port: port}
	if a, ok := ns.Addr().(*net.TCPAddr); ok {
		s.port = a.Port
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.port }

// ClientURL returns the URL clients connect to, e.g. nats://127.0.0.1:4222
// (tls://... when the server requires TLS).
func (s *Server) ClientURL() string {
	scheme := "nats"
	if s.cfg.TLS != nil {
		scheme = "tls"
	}
	return scheme + "://" + net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.port))
}

// ConnConfig returns a client configuration for this server: its URL and
// the credentials it requires (TLS files are not known to it and must be
// added by the caller).
func (s *Server) ConnConfig() ConnConfig {
	return ConnConfig{URL: s.ClientURL(), User: s.cfg.User, Password: s.cfg.Password, Token: s.cfg.Token, Logger: s.cfg.Logger}
}

// JetStreamEnabled reports whether the server runs JetStream.
func (s *Server) JetStreamEnabled() bool { return s.ns.JetStreamEnabled() }

// Shutdown stops the server and waits until it has stopped, its
// goroutines included. It is safe to call more than once.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// serverLog forwards the embedded server's log to slog.
type serverLog struct{ l *slog.Logger }

func (g *serverLog) Noticef(format string, v ...any) { g.l.Info(fmt.Sprintf(format, v...)) }
func (g *serverLog) Warnf(format string, v ...any)   { g.l.Warn(fmt.Sprintf(format, v...)) }
func (g *serverLog) Fatalf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *serverLog) Errorf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *serverLog) Debugf(format string, v ...any)  { g.l.Debug(fmt.Sprintf(format, v...)) }
func (g *serverLog) Tracef(format string, v ...any)  { g.l.Debug(fmt.Sprintf(format, v...)) }
