package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"clapp/model"
	mblas "clapp/model/blas"
	"clapp/stream/natsbus"
)

// commonFlags are shared by the commands that run an encoder.
type commonFlags struct {
	blas      string
	threads   int
	logFormat string
	logLevel  string
	runsDir   string
	runName   string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.blas, "blas", "", "BLAS backend: go or openblas (default: $CLAPP_BLAS, else OpenBLAS when installed, else go)")
	fs.IntVar(&c.threads, "blas-threads", 1, "threads per OpenBLAS call (the layers already run in parallel; 0 keeps OpenBLAS's default)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json (json also turns the progress bar into periodic JSON records)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.runsDir, "runs", "runs", "directory that receives a run directory per command")
	fs.StringVar(&c.runName, "name", "", "suffix for the run directory's name")
}

// setup configures logging and the BLAS backend.
func (c *commonFlags) setup(stderr io.Writer) (*slog.Logger, mblas.Backend, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch c.logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, opts)
	case "json":
		h = slog.NewJSONHandler(stderr, opts)
	default:
		return nil, nil, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
	}
	log := slog.New(h)
	slog.SetDefault(log)
	var b mblas.Backend
	if c.blas == "" {
		b = mblas.Default()
		if err := mblas.DefaultErr(); err != nil {
			return nil, nil, fmt.Errorf("%w (unset %s or install libopenblas0)", err, mblas.EnvVar)
		}
	} else {
		var err error
		if b, err = mblas.Select(c.blas); err != nil {
			return nil, nil, fmt.Errorf("--blas: %w", err)
		}
	}
	if c.threads > 0 {
		b.SetThreads(c.threads)
	}
	model.SetBLAS(b)
	log.Info("blas", "backend", b.Name(), "threads", b.Threads())
	return log, b, nil
}

// natsFlags select the NATS server: embedded by default, or external.
type natsFlags struct {
	url, user, password, token, creds, nkey string
	ca, cert, key                           string
	store                                   string
	port                                    int
}

func (n *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.url, "nats", "", "NATS server URL (default: an embedded server on 127.0.0.1)")
	fs.StringVar(&n.user, "nats-user", "", "NATS user (with --nats-password)")
	fs.StringVar(&n.password, "nats-password", "", "NATS password")
	fs.StringVar(&n.token, "nats-token", "", "NATS token")
	fs.StringVar(&n.creds, "nats-creds", "", "NATS credentials file (JWT)")
	fs.StringVar(&n.nkey, "nats-nkey", "", "NATS nkey seed file")
	fs.StringVar(&n.ca, "nats-ca", "", "CA certificates (PEM) for a TLS NATS server")
	fs.StringVar(&n.cert, "nats-cert", "", "client certificate (PEM) for NATS TLS")
	fs.StringVar(&n.key, "nats-key", "", "client key (PEM) for NATS TLS")
	fs.StringVar(&n.store, "nats-store", "", "JetStream store directory of the embedded server (enables JetStream)")
	fs.IntVar(&n.port, "nats-port", natsbus.RandomPort, "port of the embedded server (-1: any free port)")
}

func (n *natsFlags) open(log *slog.Logger) (*natsbus.Bus, error) {
	cfg := natsbus.Config{
		Conn: natsbus.ConnConfig{URL: n.url, Name: "clapp-replay", User: n.user, Password: n.password, Token: n.token,
			CredsFile: n.creds, NkeySeedFile: n.nkey, TLS: natsbus.TLSFiles{CAFile: n.ca, CertFile: n.cert, KeyFile: n.key}, Logger: log},
		Embedded: natsbus.ServerConfig{Port: n.port, StoreDir: n.store, Logger: log.With("component", "nats-server")},
	}
	bus, err := natsbus.Open(cfg)
	if err != nil {
		return nil, err
	}
	if bus.Server != nil {
		log.Info("nats: embedded server", "url", bus.Server.ClientURL(), "jetstream", bus.Server.JetStreamEnabled())
	} else {
		log.Info("nats: connected", "url", n.url)
	}
	return bus, nil
}

// sizeFlags select the encoder's geometry.
type sizeFlags struct {
	size           string
	channels, hidn int
	k              int
	split          bool
	fullRate       bool
	updateTargets  bool
}

func (s *sizeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.size, "size", "auto", "encoder size: paper (512 channels, GRU 256), narrow (128, 64), or auto: paper with OpenBLAS, narrow with pure Go")
	fs.IntVar(&s.channels, "channels", 0, "convolution channels (overrides --size)")
	fs.IntVar(&s.hidn, "hidden", 0, "GRU hidden units (overrides --size)")
	fs.IntVar(&s.k, "k", 12, "prediction steps K of every layer")
	fs.BoolVar(&s.fullRate, "full-rate", false, "take contexts at every frame instead of 100 Hz (Greedy InfoMax's --subsample off; costly)")
	fs.BoolVar(&s.updateTargets, "update-targets", false, "let the GRU level's loss update layer 5 through its targets (the paper's option)")
}

func (s *sizeFlags) config(b mblas.Backend) (model.Config, error) {
	var c model.Config
	switch s.size {
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
		return c, fmt.Errorf("--size %q: want paper, narrow or auto", s.size)
	}
	if s.channels > 0 {
		c.Channels = s.channels
	}
	if s.hidn > 0 {
		c.Hidden = s.hidn
	}
	c.K = s.k
	c.Split = s.split
	if s.fullRate {
		c.ContextRate = 0
	}
	c.UpdateTargets = s.updateTargets
	return c, c.Validate()
}

// byteSize parses sizes such as 256MiB, 1GiB, 512M or a plain byte count.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
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
	*b = byteSize(v * float64(mult))
	return nil
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	}
	return fmt.Sprintf("%dm%02ds", m, s)
}

var _ = os.Stderr
