package natsbus

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Config chooses between the embedded server (the default) and an
// external one.
type Config struct {
	// Conn configures the client. With Conn.URL empty, the embedded server
	// is started and Conn's URL and credentials are taken from it (TLS
	// files and the other fields of Conn still apply).
	Conn ConnConfig
	// Embedded configures the embedded server; ignored when Conn.URL is
	// set.
	Embedded ServerConfig
}

// Bus is a connection to NATS, with the embedded server it started, if
// any.
type Bus struct {
	// Conn is the client connection.
	Conn *nats.Conn
	// Server is the embedded server, nil when connected to an external one.
	Server *Server
}

// Open starts the embedded server unless cfg names an external one, and
// connects to it.
func Open(cfg Config) (*Bus, error) {
	cc := cfg.Conn
	var srv *Server
	if cc.URL == "" {
		if cfg.Embedded.Logger == nil {
			cfg.Embedded.Logger = cc.Logger
		}
		var err error
		if srv, err = StartServer(cfg.Embedded); err != nil {
			return nil, err
		}
		sc := srv.ConnConfig()
		cc.URL, cc.User, cc.Password, cc.Token = sc.URL, sc.User, sc.Password, sc.Token
	}
	nc, err := Connect(cc)
	if err != nil {
		if srv != nil {
			srv.Shutdown()
		}
		return nil, fmt.Errorf("natsbus: open: %w", err)
	}
	return &Bus{Conn: nc, Server: srv}, nil
}

// Close closes the connection, after publishing what it still buffers,
// and shuts the embedded server down.
func (b *Bus) Close() {
	if b.Conn.IsConnected() {
		_ = b.Conn.FlushTimeout(2 * time.Second) // best effort: Close does not wait for the server
	}
	b.Conn.Close()
	if b.Server != nil {
		b.Server.Shutdown()
	}
}
