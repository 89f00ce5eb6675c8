// Package otlpencodingextension is an empty stub (test-only dependency of fileexporter).
package otlpencodingextension
