package dashboard

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestListenAddress(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	tests := []struct {
		addr     string
		wantHost string // "" when Listen must fail
	}{
		{"", "127.0.0.1"},
		{":0", "127.0.0.1"},
		{"0", "127.0.0.1"},
		{"127.0.0.1:0", "127.0.0.1"},
		{"localhost:0", "127.0.0.1"},
		{"[::1]:0", "::1"},
		{"a:b:c", ""},
		{"127.0.0.1:notaport", ""},
	}
	for _, tc := range tests {
		s, err := Listen(tc.addr, ok, testLogger(t))
		if tc.wantHost == "" {
			if err == nil {
				s.Shutdown(context.Background())
				t.Errorf("Listen(%q) listened on %s", tc.addr, s.Addr())
			} else if !strings.Contains(err.Error(), tc.addr) {
				t.Errorf("Listen(%q): %v does not name the address", tc.addr, err)
			}
			continue
		}
		if err != nil {
			if tc.wantHost == "::1" {
				t.Logf("no IPv6 loopback here: %v", err)
				continue
			}
			t.Fatalf("Listen(%q): %v", tc.addr, err)
		}
		if got := s.Addr().(*net.TCPAddr).IP.String(); got != tc.wantHost {
			t.Errorf("Listen(%q) listens on %s, want %s", tc.addr, s.Addr(), tc.wantHost)
		}
		if !strings.HasPrefix(s.URL(), "http://") {
			t.Errorf("URL %s", s.URL())
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

// TestLoopbackHosts: on loopback, a request must name a loopback host,
// so a page of another site cannot reach the controls by DNS rebinding.
func TestLoopbackHosts(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	s, err := Listen("", ok, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	port := s.Addr().(*net.TCPAddr).Port
	for host, want := range map[string]int{
		"127.0.0.1":          200,
		"localhost":          200,
		"LOCALHOST.":         200,
		"dash.localhost":     200,
		"127.0.0.2":          200,
		"[::1]":              200,
		"attacker.example":   403,
		"192.168.1.10":       403,
		"localhost.evil.com": 403,
	} {
		req, _ := http.NewRequest("GET", s.URL(), nil)
		req.Host = host + ":" + strconv.Itoa(port)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("Host %s: %d %s, want %d", host, r.StatusCode, body, want)
		}
		if want == 403 && !strings.Contains(string(body), host) {
			t.Errorf("refusal %s does not name the host %s", body, host)
		}
	}
}

// TestListenBeyondLoopback: an explicit host is obeyed, and then any Host
// header is served.
func TestListenBeyondLoopback(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	s, err := Listen("0.0.0.0:0", ok, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if ip := s.Addr().(*net.TCPAddr).IP; !ip.IsUnspecified() {
		t.Errorf("listening on %s, want every interface as asked", ip)
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(s.Addr().(*net.TCPAddr).Port)+"/", nil)
	req.Host = "dashboard.example"
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Errorf("status %d", r.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Shutdown")
	}
}
