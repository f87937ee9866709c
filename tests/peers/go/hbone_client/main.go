// hbone_client is a minimal HBONE test peer: it opens HTTP/2 CONNECT streams
// over mutual TLS 1.3, sends a known byte pattern, half-closes, reads the
// whole response concurrently and reports sizes and SHA-256 digests as JSON.
package main

import (
	"ambit/peers/peerpki"

	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Status         int    `json:"status"`
	PeerSan        string `json:"peerSan"`
	SentBytes      int64  `json:"sentBytes"`
	SentSha256     string `json:"sentSha256"`
	ReceivedBytes  int64  `json:"receivedBytes"`
	ReceivedSha256 string `json:"receivedSha256"`
}

var stdoutMu sync.Mutex

func emit(v interface{}) {
	b, _ := json.Marshal(v)
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func die(err error) {
	emit(map[string]string{"error": err.Error()})
	os.Exit(1)
}

var errSANMismatch = errors.New("server URI SAN mismatch")

func main() {
	addr := flag.String("addr", "", "HBONE server host:port to dial")
	authority := flag.String("authority", "", "CONNECT target ip:port (sent as :authority)")
	certFile := flag.String("cert", "", "client certificate chain (PEM)")
	keyFile := flag.String("key", "", "client private key (PEM)")
	caFile := flag.String("ca", "", "CA bundle used to verify the server (PEM)")
	expectSAN := flag.String("expect-san", "", "required server URI SAN (spiffe://...)")
	nBytes := flag.Int64("bytes", 0, "bytes of pattern byte(i%251) to send per stream")
	timeout := flag.Float64("timeout", 60, "overall timeout in seconds")
	streams := flag.Int("streams", 1, "concurrent CONNECT streams over one connection")
	flag.Parse()
	if *addr == "" || *authority == "" || *expectSAN == "" || *streams < 1 {
		die(errors.New("-addr, -authority and -expect-san are required; -streams >= 1"))
	}

	cert, roots, err := peerpki.Load(*certFile, *keyFile, *caFile)
	if err != nil {
		die(err)
	}

	var sanMismatch atomic.Value // string: the SAN we actually got
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2"},
		// SPIFFE certs carry no DNS/IP SANs, so stock hostname verification
		// can never pass; we verify the chain and the URI SAN ourselves.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyPeer(raw, roots, *expectSAN, &sanMismatch)
		},
	}
	// Counting dials lets -streams runs prove they shared one connection.
	var dials int32
	dialer := &net.Dialer{}
	tr := &http.Transport{
		ForceAttemptHTTP2: true,
		TLSClientConfig:   tlsCfg,
		// Otherwise Go adds accept-encoding: gzip and may gunzip the tunnel.
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			atomic.AddInt32(&dials, 1)
			return dialer.DialContext(ctx, network, a)
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*timeout*float64(time.Second)))
	defer cancel()

	// Stream 0 runs first up to its response headers, so the others find an
	// established HTTP/2 connection instead of racing to dial their own.
	var firstOnce sync.Once
	first := make(chan struct{})
	firstDone := func() { firstOnce.Do(func() { close(first) }) }
	results := make([]error, *streams)
	statuses := make([]int, *streams)
	var wg sync.WaitGroup
	for i := 0; i < *streams; i++ {
		if i == 1 {
			<-first
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer firstDone()
			statuses[i], results[i] = runStream(ctx, tr, *addr, *authority, *nBytes, firstDone)
		}(i)
	}
	wg.Wait()

	code := 0
	for i, err := range results {
		switch {
		case err != nil && sanMismatch.Load() != nil:
			emit(map[string]string{"error": fmt.Sprintf("%v: got %q, want %q", errSANMismatch, sanMismatch.Load(), *expectSAN)})
			code = 3
		case err != nil:
			emit(map[string]string{"error": err.Error()})
			if code == 0 || code == 2 {
				code = 1
			}
		case statuses[i] != http.StatusOK && code == 0:
			code = 2
		}
	}
	if *streams > 1 {
		fmt.Fprintf(os.Stderr, "hbone_client: %d streams over %d TCP connection(s)\n", *streams, atomic.LoadInt32(&dials))
	}
	os.Exit(code)
}

func verifyPeer(raw [][]byte, roots *x509.CertPool, want string, mismatch *atomic.Value) error {
	if len(raw) == 0 {
		return errors.New("server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, der := range raw {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return err
	}
	got := ""
	if len(certs[0].URIs) > 0 {
		got = certs[0].URIs[0].String()
	}
	if len(certs[0].URIs) != 1 || got != want {
		mismatch.Store(got)
		return errSANMismatch
	}
	return nil
}

// runStream performs one CONNECT, prints its JSON line and returns the status.
// gotHeaders is called once the response headers have arrived.
func runStream(ctx context.Context, tr *http.Transport, addr, authority string, n int64, gotHeaders func()) (int, error) {
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodConnect, "https://"+addr, pr)
	if err != nil {
		return 0, err
	}
	// For CONNECT, Go's h2 transport sends :authority from Host and omits
	// :path and :scheme (RFC 9113 §8.5).
	req.Host = authority

	sentHash := sha256.New()
	var sent int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		// A whole number of 251-byte periods, so consecutive writes keep
		// the byte(i % 251) pattern continuous.
		block := make([]byte, 251*256)
		for i := range block {
			block[i] = byte(i % 251)
		}
		for sent < n {
			chunk := block
			if rem := n - sent; rem < int64(len(chunk)) {
				chunk = chunk[:rem]
			}
			w, err := pw.Write(chunk)
			sentHash.Write(chunk[:w])
			sent += int64(w)
			if err != nil {
				return
			}
		}
		pw.Close() // -> END_STREAM
	}()

	resp, err := tr.RoundTrip(req)
	if err != nil {
		pr.CloseWithError(err)
		<-writerDone
		return 0, err
	}
	gotHeaders()

	recvHash := sha256.New()
	received, rerr := io.Copy(recvHash, resp.Body)
	resp.Body.Close()
	// Unblocks the writer if the server finished without reading everything.
	pr.CloseWithError(errors.New("response finished"))
	<-writerDone
	if rerr != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, rerr
	}

	peerSAN := ""
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 && len(resp.TLS.PeerCertificates[0].URIs) > 0 {
		peerSAN = resp.TLS.PeerCertificates[0].URIs[0].String()
	}
	emit(result{
		Status:         resp.StatusCode,
		PeerSan:        peerSAN,
		SentBytes:      sent,
		SentSha256:     hex.EncodeToString(sentHash.Sum(nil)),
		ReceivedBytes:  received,
		ReceivedSha256: hex.EncodeToString(recvHash.Sum(nil)),
	})
	return resp.StatusCode, nil
}
