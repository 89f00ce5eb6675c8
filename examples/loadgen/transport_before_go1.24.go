//go:build !go1.24

package main

import (
	"log"
	"net/http"
)

// clearTextHTTP2 needs http.Protocols, which came with Go 1.24.
func clearTextHTTP2(*http.Transport) {
	log.Fatal("-h2 to an http:// target needs loadgen built with Go 1.24 or newer")
}
