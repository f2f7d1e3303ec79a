package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/mail/mailtest"
)

// TestServeUntilCancelled serves the page on a listener of its own, then
// ends the context: Serve shuts down and returns nil.
func TestServeUntilCancelled(t *testing.T) {
	te := newTestEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- te.srv.Serve(ctx, ln, nil, nil, func(err error) { t.Errorf("warned: %v", err) }) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil after the context ends", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Error("the page is still served after Serve returned")
	}
}

// TestListen listens over HTTP and over TLS with a certificate of its own,
// and refuses a taken address and a missing key pair with a *ListenError
// that says which.
func TestListen(t *testing.T) {
	ln, tlsCfg, scheme, err := Listen("127.0.0.1:0", "", "")
	if err != nil || tlsCfg != nil || scheme != "http" {
		t.Fatalf("Listen: %v, %v, %q", err, tlsCfg, scheme)
	}
	defer ln.Close()
	var le *ListenError
	if _, _, _, err := Listen(ln.Addr().String(), "", ""); !errors.As(err, &le) || le.TLS {
		t.Errorf("a taken address: %v; want a *ListenError, not of TLS", err)
	}

	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, _, _, err := Listen("127.0.0.1:0", certFile, keyFile); !errors.As(err, &le) || !le.TLS {
		t.Errorf("a missing key pair: %v; want a *ListenError of TLS", err)
	}
	cert := mailtest.NewCert(t)
	kb, err := x509.MarshalECPrivateKey(cert.TLS.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	certFile = cert.CAFile // the certificate is its own authority
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	tln, tlsCfg, scheme, err := Listen("127.0.0.1:0", certFile, keyFile)
	if err != nil || tlsCfg == nil || scheme != "https" || tlsCfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("Listen over TLS: %v, %v, %q", err, tlsCfg, scheme)
	}
	defer tln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := tln.Accept()
		if err == nil {
			err = c.(*tls.Conn).Handshake()
			c.Close()
		}
		accepted <- err
	}()
	c, err := tls.Dial("tcp", tln.Addr().String(), &tls.Config{RootCAs: cert.Pool})
	if err != nil {
		t.Fatalf("a TLS client: %v", err)
	}
	c.Close()
	if err := <-accepted; err != nil {
		t.Errorf("the listener's handshake: %v", err)
	}
}
