//go:build go1.24

package main

import "net/http"

// clearTextHTTP2 makes t speak HTTP/2 without TLS, with prior knowledge (h2c).
func clearTextHTTP2(t *http.Transport) {
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
}
