package main

import (
	"crypto/tls"
	"net/http"
)

// newTransport is the clients' transport: HTTPS trusts any certificate (the shop makes its own);
// with h2, HTTP/2 is asked for, over TLS by ALPN or in clear text with prior knowledge.
func newTransport(https, h2 bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if https {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		t.ForceAttemptHTTP2 = h2
		if !h2 {
			t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
		}
	} else if h2 {
		clearTextHTTP2(t)
	}
	return t
}
