//go:build go1.24

package main

import "net/http"

// serveUnencryptedHTTP2 lets srv take HTTP/2 without TLS from clients with prior knowledge (h2c), besides HTTP/1.1.
func serveUnencryptedHTTP2(srv *http.Server) {
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
}
