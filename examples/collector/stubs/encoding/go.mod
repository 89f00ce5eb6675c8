// Empty stand-in (see ../otlpencodingextension/go.mod): a parent-path module
// that go mod tidy consults; the module proxy does not serve its zip.
module github.com/open-telemetry/opentelemetry-collector-contrib/extension/encoding

go 1.25
