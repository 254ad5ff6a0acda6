package natsbus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// roundTrip publishes one block on a and checks that b receives it.
func roundTrip(t *testing.T, a, b *nats.Conn) {
	t.Helper()
	sub, err := SubscribeChan(b, "clapp.auth.layer.1", SubscriberConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(a, PublisherConfig{})
	blk := testBlock(mrand.New(mrand.NewPCG(1, 1)), "u", 1, 0, 2, 3, 3200)
	if err := pub.Publish("clapp.auth.layer.1", blk); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub.C():
		if !sameBlock(got, blk) {
			t.Fatalf("got %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("block not received")
	}
}

func TestServerRefusesRemoteUnlessAsked(t *testing.T) {
	checkNoLeak(t)
	for _, host := range []string{"0.0.0.0", "::", "192.0.2.1", "example.com"} {
		if s, err := StartServer(ServerConfig{Host: host, Port: RandomPort, Logger: testLogger()}); !errors.Is(err, ErrServer) {
			if s != nil {
				s.Shutdown()
			}
			t.Errorf("host %s: %v", host, err)
		}
	}
	for _, host := range []string{"", "127.0.0.1", "localhost", "::1"} {
		if host == "::1" {
			if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
				continue // no IPv6 loopback here
			} else {
				l.Close()
			}
		}
		s, err := StartServer(ServerConfig{Host: host, Port: RandomPort, Logger: testLogger()})
		if err != nil {
			t.Errorf("host %q: %v", host, err)
			continue
		}
		s.Shutdown()
	}
}

func TestUserPasswordAuth(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{User: "clapp", Password: "s3cret"})
	if _, err := Connect(ConnConfig{URL: srv.ClientURL(), User: "clapp", Password: "wrong", Logger: testLogger()}); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := Connect(ConnConfig{URL: srv.ClientURL(), Logger: testLogger()}); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("no password: %v", err)
	}
	roundTrip(t, connect(t, srv), connect(t, srv))
}

func TestTokenAuth(t *testing.T) {
	checkNoLeak(t)
	srv := startServer(t, ServerConfig{Token: "t0ken"})
	if _, err := Connect(ConnConfig{URL: srv.ClientURL(), Token: "nope", Logger: testLogger()}); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("wrong token: %v", err)
	}
	roundTrip(t, connect(t, srv), connect(t, srv))
	if _, err := StartServer(ServerConfig{Token: "t", User: "u", Port: RandomPort}); !errors.Is(err, ErrServer) {
		t.Errorf("token and user together: %v", err)
	}
	if _, err := (ConnConfig{Token: "t", User: "u"}).Options(); !errors.Is(err, ErrConfig) {
		t.Errorf("client token and user together: %v", err)
	}
}

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate to dir, and returns the server's TLS configuration
// requiring client certificates signed by the CA.
func pki(t *testing.T, dir string) *tls.Config {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clapp test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write("ca.pem", "CERTIFICATE", caDER)
	issue := func(serial int64, name string, usage x509.ExtKeyUsage, ips []net.IP) tls.Certificate {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		write(name+".pem", "CERTIFICATE", der)
		write(name+"-key.pem", "EC PRIVATE KEY", kder)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	serverCert := issue(2, "server", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	issue(3, "client", x509.ExtKeyUsageClientAuth, nil)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

func TestMutualTLS(t *testing.T) {
	checkNoLeak(t)
	dir := t.TempDir()
	srv := startServer(t, ServerConfig{TLS: pki(t, dir)})
	files := TLSFiles{CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem")}
	withTLS := func(f TLSFiles) func(*ConnConfig) { return func(c *ConnConfig) { c.TLS = f } }
	roundTrip(t, connect(t, srv, withTLS(files)), connect(t, srv, withTLS(files)))

	for name, f := range map[string]TLSFiles{
		"no client certificate": {CAFile: files.CAFile},
		"unknown CA":            {CertFile: files.CertFile, KeyFile: files.KeyFile},
		"no TLS at all":         {},
	} {
		if nc, err := Connect(ConnConfig{URL: srv.ClientURL(), TLS: f, Logger: testLogger()}); err == nil {
			nc.Close()
			t.Errorf("%s: connected", name)
		}
	}
	// Skipping verification of the server is possible when asked for.
	insecure := files
	insecure.CAFile, insecure.InsecureSkipVerify = "", true
	nc, err := Connect(ConnConfig{URL: srv.ClientURL(), TLS: insecure, Logger: testLogger()})
	if err != nil {
		t.Fatalf("InsecureSkipVerify: %v", err)
	}
	nc.Close()
	if _, err := (ConnConfig{TLS: TLSFiles{CertFile: "x.pem"}}).Options(); !errors.Is(err, ErrConfig) {
		t.Errorf("cert without key: %v", err)
	}
}

func TestOpenEmbeddedAndExternal(t *testing.T) {
	checkNoLeak(t)
	bus, err := Open(Config{Embedded: ServerConfig{Port: RandomPort, Token: "tk", Logger: testLogger()}, Conn: ConnConfig{Logger: testLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	if bus.Server == nil || !bus.Conn.IsConnected() {
		t.Fatal("embedded bus not up")
	}
	ext, err := Open(Config{Conn: ConnConfig{URL: bus.Server.ClientURL(), Token: "tk", Logger: testLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	if ext.Server != nil {
		t.Error("external bus started a server")
	}
	roundTrip(t, ext.Conn, bus.Conn)
	if _, err := Open(Config{Conn: ConnConfig{URL: "nats://u:pw@127.0.0.1:1", Logger: testLogger()}}); err == nil {
		t.Error("connected to nothing")
	} else if s := err.Error(); strings.Contains(s, "pw") {
		t.Errorf("password in error: %s", s)
	}
}
