// hbone_server is a minimal HBONE test peer: it accepts HTTP/2 CONNECT over
// mutual TLS 1.3 and echoes the tunnelled bytes back until the client
// half-closes (END_STREAM), then ends the response stream.
package main

import (
	"ambit/peers/peerpki"

	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

var stdoutMu sync.Mutex

// emit writes one JSON line; tests parse stdout line by line, so lines from
// concurrent handlers must never interleave.
func emit(v interface{}) {
	b, _ := json.Marshal(v)
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
	os.Stdout.Sync()
}

func fail(err error) {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	fmt.Println(string(b))
	os.Exit(1)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "ip:port to listen on (port 0 = pick a free one)")
	certFile := flag.String("cert", "", "server certificate chain (PEM)")
	keyFile := flag.String("key", "", "server private key (PEM)")
	caFile := flag.String("ca", "", "CA bundle used to verify client certificates (PEM)")
	expectSAN := flag.String("expect-client-san", "", "if set, CONNECTs from any other client URI SAN get 401")
	flag.Parse()

	cert, pool, err := peerpki.Load(*certFile, *keyFile, *caFile)
	if err != nil {
		fail(err)
	}
	// Client chain verification needs no hostname, so the stock
	// RequireAndVerifyClientCert is enough; the SAN policy lives in the handler.
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2"},
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fail(err)
	}
	// Serve (not ServeTLS) on our own TLS listener so that only "h2" is
	// offered; ServeTLS would append "http/1.1". http.Server still enables
	// its bundled HTTP/2 server because TLSNextProto is nil.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, *expectSAN)
	})}
	emit(struct {
		Event string `json:"event"`
		Addr  string `json:"addr"`
	}{"listening", ln.Addr().String()})
	if err := srv.Serve(tls.NewListener(ln, tlsCfg)); err != nil {
		fail(err)
	}
}

func handle(w http.ResponseWriter, r *http.Request, expectSAN string) {
	// Without ALPN h2 Go falls back to HTTP/1.1, which cannot echo full duplex.
	if r.ProtoMajor != 2 {
		w.WriteHeader(http.StatusHTTPVersionNotSupported)
		return
	}
	if r.Method != http.MethodConnect {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	peerSAN := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && len(r.TLS.PeerCertificates[0].URIs) > 0 {
		peerSAN = r.TLS.PeerCertificates[0].URIs[0].String()
	}
	emit(struct {
		Event     string `json:"event"`
		PeerSan   string `json:"peerSan"`
		Authority string `json:"authority"`
	}{"connect", peerSAN, r.Host})
	if expectSAN != "" && peerSAN != expectSAN {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}

	flusher := w.(http.Flusher)
	w.WriteHeader(http.StatusOK)
	// The client waits for the 200 before it starts sending.
	flusher.Flush()

	// HTTP/2 lets the handler read the request body while writing the
	// response. Flushing per chunk keeps the echo streaming instead of
	// buffering until the handler returns.
	buf := make([]byte, 64*1024)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			flusher.Flush()
		}
		if err != nil {
			// io.EOF is the client's END_STREAM; returning ends our side too.
			if err != io.EOF {
				fmt.Fprintf(os.Stderr, "hbone_server: read body: %v\n", err)
			}
			return
		}
	}
}
