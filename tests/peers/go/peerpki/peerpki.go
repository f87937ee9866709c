// Package peerpki loads the PEM files the Ambit tests hand to the Go peers.
package peerpki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Load reads a certificate chain, its key and a CA bundle.
func Load(certFile, keyFile, caFile string) (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return tls.Certificate{}, nil, fmt.Errorf("no certificates in %s", caFile)
	}
	return cert, pool, nil
}
