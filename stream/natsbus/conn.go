package natsbus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ConnConfig configures a client connection, to the embedded server or to
// an external one. Credentials and TLS files are handed to nats.go as they
// are; at most one of User/Password, Token, CredsFile and NkeySeedFile
// should be set.
type ConnConfig struct {
	// URL of the server, e.g. nats://127.0.0.1:4222 or tls://host:4443; a
	// comma-separated list names several servers of one cluster.
	URL string
	// Name identifies the connection in the server's monitoring.
	Name string
	// User and Password (nats.UserInfo).
	User, Password string
	// Token (nats.Token).
	Token string
	// CredsFile is a JWT user credentials file (nats.UserCredentials).
	CredsFile string
	// NkeySeedFile is an nkey seed file (nats.NkeyOptionFromSeed).
	NkeySeedFile string
	// TLS files and the option to skip verification of the server.
	TLS TLSFiles
	// ReconnectWait is the first delay between reconnect attempts, doubled
	// after each failed round up to MaxReconnectWait; 0 means 100 ms and
	// 5 s. Reconnection never gives up.
	ReconnectWait, MaxReconnectWait time.Duration
	// ReconnectBufSize is the nats.go buffer that keeps what is published
	// while disconnected, in bytes: 0 keeps nats.go's 8 MiB, a negative
	// value disables buffering (publishes fail while disconnected).
	ReconnectBufSize int
	// RetryOnFailedConnect returns a connection even when the server cannot
	// be reached yet, and keeps trying in the background
	// (nats.RetryOnFailedConnect). Without it Connect fails at once.
	RetryOnFailedConnect bool
	// Logger receives disconnects, reconnects and asynchronous errors
	// (slow consumers); nil means slog.Default().
	Logger *slog.Logger
}

// TLSFiles names the PEM files of a TLS client configuration.
type TLSFiles struct {
	// CAFile holds the certificates that sign the server's (nats.RootCAs);
	// empty means the system's.
	CAFile string
	// CertFile and KeyFile hold the client certificate and its key
	// (nats.ClientCert), for servers that require one.
	CertFile, KeyFile string
	// InsecureSkipVerify accepts any server certificate. Off by default;
	// for tests only.
	InsecureSkipVerify bool
}

func (t TLSFiles) set() bool {
	return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.InsecureSkipVerify
}

// ErrConfig is returned for a connection configuration that cannot work.
var ErrConfig = errors.New("natsbus: bad configuration")

// Options returns the nats.go options for c.
func (c ConnConfig) Options() ([]nats.Option, error) {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "nats")
	first, max := c.ReconnectWait, c.MaxReconnectWait
	if first <= 0 {
		first = 100 * time.Millisecond
	}
	if max <= 0 {
		max = 5 * time.Second
	}
	if max < first {
		max = first
	}
	opts := []nats.Option{
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			d := first
			for i := 1; i < attempts && d < max; i++ {
				d *= 2
			}
			d = min(d, max)
			return d + rand.N(d/4+1) // jitter, so that many clients do not reconnect in step
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			log.Warn("disconnected from NATS", "url", nc.ConnectedUrlRedacted(), "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			log.Debug("NATS connection closed")
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				dropped, _ := sub.Dropped()
				log.Warn("NATS subscription error", "subject", sub.Subject, "dropped", dropped, "err", err)
				return
			}
			log.Warn("NATS error", "err", err)
		}),
	}
	if c.Name != "" {
		opts = append(opts, nats.Name(c.Name))
	}
	if c.ReconnectBufSize != 0 {
		opts = append(opts, nats.ReconnectBufSize(c.ReconnectBufSize))
	}
	if c.RetryOnFailedConnect {
		opts = append(opts, nats.RetryOnFailedConnect(true))
	}
	n := 0
	if c.User != "" || c.Password != "" {
		n++
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Token != "" {
		n++
		opts = append(opts, nats.Token(c.Token))
	}
	if c.CredsFile != "" {
		n++
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.NkeySeedFile != "" {
		n++
		o, err := nats.NkeyOptionFromSeed(c.NkeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("%w: nkey seed file %s: %w", ErrConfig, c.NkeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if n > 1 {
		return nil, fmt.Errorf("%w: more than one of user/password, token, credentials file and nkey seed file", ErrConfig)
	}
	if c.TLS.set() {
		if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
			return nil, fmt.Errorf("%w: TLS client certificate needs both CertFile and KeyFile", ErrConfig)
		}
		// Secure first: RootCAs and ClientCert then fill in its config.
		opts = append(opts, nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLS.InsecureSkipVerify}))
		if c.TLS.CAFile != "" {
			opts = append(opts, nats.RootCAs(c.TLS.CAFile))
		}
		if c.TLS.CertFile != "" {
			opts = append(opts, nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile))
		}
	}
	return opts, nil
}

// Connect connects to the server c names, reconnecting forever with
// backoff and logging disconnects and reconnects.
func Connect(c ConnConfig) (*nats.Conn, error) {
	if c.URL == "" {
		return nil, fmt.Errorf("%w: no server URL", ErrConfig)
	}
	opts, err := c.Options()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect to %s: %w", redact(c.URL), err)
	}
	return nc, nil
}

// redact hides user names, passwords and tokens written into server URLs.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("redacted")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
