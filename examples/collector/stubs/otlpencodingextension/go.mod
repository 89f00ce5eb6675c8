// Empty stand-in: only fileexporter's *tests* import this module, and its zip
// is not served by the module proxy (403). `go mod tidy` needs it to resolve;
// it is never compiled into the collector binary.
module github.com/open-telemetry/opentelemetry-collector-contrib/extension/encoding/otlpencodingextension

go 1.25
