package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Deployments starts the production deployment on 127.0.0.2 and the
// staging one on 127.0.0.3, on one free port, over TLS with a certificate
// for certName (signed by CA) when certName is not "", and returns the
// port. A slot target of "127.0.0.2" then reaches production's handler.
func Deployments(t testing.TB, production, staging http.HandlerFunc, certName string) int {
	t.Helper()
	first, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	_, portText, _ := net.SplitHostPort(first.Addr().String())
	second, err := net.Listen("tcp", "127.0.0.3:"+portText)
	if err != nil {
		first.Close()
		t.Fatal(err)
	}
	serve(t, first, production, certName)
	serve(t, second, staging, certName)
	port, _ := strconv.Atoi(portText)
	return port
}

// Deployment starts one deployment on 127.0.0.2 and returns its port.
func Deployment(t testing.TB, h http.HandlerFunc, certName string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l, h, certName)
	_, portText, _ := net.SplitHostPort(l.Addr().String())
	port, _ := strconv.Atoi(portText)
	return port
}

func serve(t testing.TB, l net.Listener, h http.HandlerFunc, certName string) {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	if certName != "" {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{Cert(t, certName)}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
}

// OK answers "ok".
func OK(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }

// Held returns a handler that answers "ok" only once release is called;
// entered receives when the first request arrives, so that a test knows
// a check is running.
func Held() (h http.HandlerFunc, entered <-chan struct{}, release func()) {
	arrived := make(chan struct{}, 1)
	done := make(chan struct{})
	h = func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-done:
			w.Write([]byte("ok"))
		case <-r.Context().Done():
		}
	}
	return h, arrived, sync.OnceFunc(func() { close(done) })
}

var ca struct {
	once sync.Once
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

// CA is the pool of the test certificate authority that signs Cert's
// certificates: the roots a check under test trusts.
func CA() *x509.CertPool {
	ca.once.Do(func() {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slotdns test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		ca.cert, _ = x509.ParseCertificate(der)
		ca.key = key
		ca.pool = x509.NewCertPool()
		ca.pool.AddCert(ca.cert)
	})
	return ca.pool
}

// Cert returns a certificate for name signed by the test CA.
func Cert(t testing.TB, name string) tls.Certificate {
	t.Helper()
	CA()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
