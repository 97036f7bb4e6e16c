package dataplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// TLS on the data plane (docs/data-plane.md#tls). The process has one certificate authority,
// made when the first manager starts, its key never written anywhere; every server
// gets a certificate from it for the addresses it is reached at (its instance's endpoint,
// which moves with a rename, and 127.0.0.1), as RDS gives every instance a certificate for its
// endpoint signed by an RDS CA. A client verifies the server with CA or CertPool.

// CAFile is the name, in the manager's root, of the file that holds CA.
const CAFile = "ca.pem"

// authority signs the servers' certificates.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newAuthority() (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: "rdssim data plane CA", Organization: []string{"rdssim"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

func newSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n.Add(n, big.NewInt(1))
}

// issue makes a server certificate for hosts (IP addresses or DNS names).
func (a *authority) issue(hosts []string) (certPEM, keyPEM []byte, serial *big.Int, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"rdssim"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), tmpl.SerialNumber, nil
}

// processAuthority is the one authority of the process: every manager's servers chain to it,
// as every RDS instance's certificate chains to the RDS CAs of one bundle, so a client of
// several simulators in one process (tests run in parallel) trusts one CA.
var processAuthority = sync.OnceValues(newAuthority)

// CA returns the PEM certificate of the authority that signs every server's certificate: the
// data plane's counterpart of RDS's global-bundle.pem.
func CA() ([]byte, error) {
	a, err := processAuthority()
	if err != nil {
		return nil, fmt.Errorf("data plane: certificate authority: %w", err)
	}
	return append([]byte(nil), a.pem...), nil
}

// CertPool is CA as a pool, for a client's tls.Config RootCAs.
func CertPool() (*x509.CertPool, error) {
	a, err := processAuthority()
	if err != nil {
		return nil, fmt.Errorf("data plane: certificate authority: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.cert)
	return pool, nil
}

func (s *Server) tlsDir() string   { return filepath.Join(s.dir, "tls") }
func (s *Server) certFile() string { return filepath.Join(s.tlsDir(), "server.crt") }
func (s *Server) keyFile() string  { return filepath.Join(s.tlsDir(), "server.key") }
func (s *Server) caFile() string   { return filepath.Join(s.tlsDir(), "ca.crt") }

// writeCert issues the server's certificate for its hosts and writes it, its key and the CA
// where the server's configuration points (mode 0600, owned by the server's user).
func (s *Server) writeCert() error {
	s.mu.Lock()
	hosts := append([]string{"127.0.0.1", "localhost"}, s.tlsHosts...)
	s.mu.Unlock()
	certPEM, keyPEM, serial, err := s.m.ca.issue(hosts)
	if err != nil {
		return fmt.Errorf("data plane: server certificate: %w", err)
	}
	if err := os.MkdirAll(s.tlsDir(), 0o700); err != nil {
		return err
	}
	// The certificate file holds the chain up to the CA, as RDS's ssl_cert_file does: a
	// PostgreSQL subscriber verifies its publisher with it (replication/postgres).
	chain := append(certPEM, s.m.ca.pem...)
	for name, b := range map[string][]byte{s.certFile(): chain, s.keyFile(): keyPEM, s.caFile(): s.m.ca.pem} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.serial = serial
	s.mu.Unlock()
	return chownTree(s.tlsDir(), s.engine)
}

// ServeAs makes the server's certificate name host (the instance's endpoint address, which a
// rename moves): it issues a new certificate when host is new and, when the server runs,
// has it load the certificate (PostgreSQL: pg_reload_conf, MariaDB: FLUSH SSL) and waits
// until new connections get it.
func (s *Server) ServeAs(ctx context.Context, host string) error {
	s.mu.Lock()
	known := slices.Contains(s.tlsHosts, host)
	if !known {
		s.tlsHosts = append(s.tlsHosts, host)
	}
	s.mu.Unlock()
	if known {
		return nil
	}
	if err := s.writeCert(); err != nil {
		return err
	}
	if !s.Running() {
		return nil // read at the next start
	}
	if s.engine == MariaDB {
		return s.AdminExec(ctx, "", "FLUSH SSL")
	}
	if err := s.AdminExec(ctx, "postgres", "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	// The postmaster reloads on SIGHUP, after pg_reload_conf returns: wait until a new
	// connection is served the new certificate.
	s.mu.Lock()
	want := s.serial
	s.mu.Unlock()
	for {
		got, err := s.pgServedSerial(ctx)
		if err == nil && got.Cmp(want) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("data plane: PostgreSQL did not load its new certificate: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// pgServedSerial opens a TLS session with the PostgreSQL server (SSLRequest, then the
// handshake) and returns the serial number of the certificate it presents.
func (s *Server) pgServedSerial(ctx context.Context) (*big.Int, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req := make([]byte, 8)
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], 80877103) // SSLRequest (PostgreSQL protocol, "Message Formats")
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	answer := make([]byte, 1)
	if _, err := c.Read(answer); err != nil {
		return nil, err
	}
	if answer[0] != 'S' {
		return nil, errors.New("server refused TLS")
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reads the certificate, trusts nothing
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc.ConnectionState().PeerCertificates[0].SerialNumber, nil
}
