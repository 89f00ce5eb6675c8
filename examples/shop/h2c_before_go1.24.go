//go:build !go1.24

package main

import (
	"log"
	"net/http"
)

// serveUnencryptedHTTP2 needs http.Protocols, which came with Go 1.24.
func serveUnencryptedHTTP2(*http.Server) {
	log.Fatal("-h2c needs a shop built with Go 1.24 or newer")
}
