package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"clapp/model"
	mblas "clapp/model/blas"
	"clapp/stream/natsbus"
)

// CommonFlags are shared by every command that runs an encoder.
type CommonFlags struct {
	BLAS      string
	Threads   int
	LogFormat string
	LogLevel  string
	RunsDir   string
	RunName   string
}

// Register adds the flags to fs.
func (c *CommonFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.BLAS, "blas", "", "BLAS backend: go or openblas (default: $CLAPP_BLAS, else OpenBLAS when installed, else go)")
	fs.IntVar(&c.Threads, "blas-threads", 1, "threads per OpenBLAS call (the layers already run in parallel; 0 keeps OpenBLAS's default)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json (json also turns the progress bar into periodic JSON records)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.RunsDir, "runs", "runs", "directory that receives a run directory per command")
	fs.StringVar(&c.RunName, "name", "", "suffix for the run directory's name")
}

// Setup configures logging and the BLAS backend.
func (c *CommonFlags) Setup(stderr io.Writer) (*slog.Logger, mblas.Backend, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch c.LogFormat {
	case "text":
		h = slog.NewTextHandler(stderr, opts)
	case "json":
		h = slog.NewJSONHandler(stderr, opts)
	default:
		return nil, nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	log := slog.New(h)
	slog.SetDefault(log)
	var b mblas.Backend
	if c.BLAS == "" {
		b = mblas.Default()
		if err := mblas.DefaultErr(); err != nil {
			return nil, nil, fmt.Errorf("%w (unset %s or install libopenblas0)", err, mblas.EnvVar)
		}
	} else {
		var err error
		if b, err = mblas.Select(c.BLAS); err != nil {
			return nil, nil, fmt.Errorf("--blas: %w", err)
		}
	}
	if c.Threads > 0 {
		b.SetThreads(c.Threads)
	}
	model.SetBLAS(b)
	log.Info("blas", "backend", b.Name(), "threads", b.Threads())
	return log, b, nil
}

// NATSFlags select the NATS server: embedded by default, or external with
// its credentials and TLS passed through to nats.go.
type NATSFlags struct {
	URL, User, Password, Token, Creds, Nkey string
	CA, Cert, Key                           string
	Store                                   string
	Port                                    int
	Name                                    string
}

// Register adds the flags to fs.
func (n *NATSFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&n.URL, "nats", "", "NATS server URL (default: an embedded server on 127.0.0.1)")
	fs.StringVar(&n.User, "nats-user", "", "NATS user (with --nats-password)")
	fs.StringVar(&n.Password, "nats-password", "", "NATS password")
	fs.StringVar(&n.Token, "nats-token", "", "NATS token")
	fs.StringVar(&n.Creds, "nats-creds", "", "NATS credentials file (JWT)")
	fs.StringVar(&n.Nkey, "nats-nkey", "", "NATS nkey seed file")
	fs.StringVar(&n.CA, "nats-ca", "", "CA certificates (PEM) for a TLS NATS server")
	fs.StringVar(&n.Cert, "nats-cert", "", "client certificate (PEM) for NATS TLS")
	fs.StringVar(&n.Key, "nats-key", "", "client key (PEM) for NATS TLS")
	fs.StringVar(&n.Store, "nats-store", "", "JetStream store directory of the embedded server (enables JetStream)")
	fs.IntVar(&n.Port, "nats-port", natsbus.RandomPort, "port of the embedded server (-1: any free port)")
}

// Open starts the embedded server unless --nats names one, and connects.
func (n *NATSFlags) Open(log *slog.Logger) (*natsbus.Bus, error) {
	cfg := natsbus.Config{
		Conn: natsbus.ConnConfig{URL: n.URL, Name: n.Name, User: n.User, Password: n.Password, Token: n.Token,
			CredsFile: n.Creds, NkeySeedFile: n.Nkey, TLS: natsbus.TLSFiles{CAFile: n.CA, CertFile: n.Cert, KeyFile: n.Key}, Logger: log},
		Embedded: natsbus.ServerConfig{Port: n.Port, StoreDir: n.Store, Logger: log.With("component", "nats-server")},
	}
	bus, err := natsbus.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	if bus.Server != nil {
		log.Info("nats: embedded server", "url", bus.Server.ClientURL(), "jetstream", bus.Server.JetStreamEnabled())
	} else {
		log.Info("nats: connected", "url", n.URL)
	}
	return bus, nil
}

// SizeFlags select the encoder's geometry.
type SizeFlags struct {
	Size     string
	Channels int
	Hidden   int
	K        int
	Split    bool
	FullRate bool
}

// Register adds the flags to fs.
func (s *SizeFlags) Register(fs *flag.FlagSet) {
	if s.Size == "" {
		s.Size = "auto"
	}
	fs.StringVar(&s.Size, "size", s.Size, "encoder size: paper (512 channels, GRU 256), narrow (128, 64), or auto: paper with OpenBLAS, narrow with pure Go")
	fs.IntVar(&s.Channels, "channels", 0, "convolution channels (overrides --size)")
	fs.IntVar(&s.Hidden, "hidden", 0, "GRU hidden units (overrides --size)")
	fs.IntVar(&s.K, "k", 12, "prediction steps K of every layer")
	fs.BoolVar(&s.FullRate, "full-rate", false, "take contexts at every frame instead of 100 Hz (Greedy InfoMax's --subsample off; costly)")
}

// Config returns the encoder configuration the flags describe.
func (s *SizeFlags) Config(b mblas.Backend) (model.Config, error) {
	var c model.Config
	switch s.Size {
	case "paper":
		c = model.PaperConfig()
	case "narrow":
		c = model.NarrowConfig(128, 64)
	case "auto":
		c = model.PaperConfig()
		if b.Name() != mblas.NameOpenBLAS {
			c = model.NarrowConfig(128, 64)
		}
	default:
		return c, fmt.Errorf("--size %q: want paper, narrow or auto", s.Size)
	}
	if s.Channels > 0 {
		c.Channels = s.Channels
	}
	if s.Hidden > 0 {
		c.Hidden = s.Hidden
	}
	c.K = s.K
	c.Split = s.Split
	if s.FullRate {
		c.ContextRate = 0
	}
	return c, c.Validate()
}

// ByteSize is a flag value for sizes such as 256MiB, 1GiB, 512M or bytes.
type ByteSize int64

func (b *ByteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set parses a size.
func (b *ByteSize) Set(s string) error {
	t := strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v <= 0 {
		return fmt.Errorf("want a size such as 256MiB or 1GiB")
	}
	*b = ByteSize(v * float64(mult))
	return nil
}

// FormatDuration prints a duration as 1h02m03s or 2m03s.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	}
	return fmt.Sprintf("%dm%02ds", m, s)
}

// FlagValues returns every flag's value, for a run's config.json.
func FlagValues(fs *flag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { out[f.Name] = f.Value.String() })
	return out
}
