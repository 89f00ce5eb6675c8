package dev.braid.daemon;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Serves the registry at {@code GET /metrics} in Prometheus' text format (the JDK's HTTP server). */
final class MetricsServer implements AutoCloseable {
  private final HttpServer server;

  MetricsServer(InetSocketAddress address, PrometheusMeterRegistry registry) {
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot serve metrics on " + address + ": " + e.getMessage() + " (is the port taken?)", e);
    }
    server.createContext(
        "/metrics",
        exchange -> {
          try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
              exchange.sendResponseHeaders(405, -1);
              return;
            }
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
    server.setExecutor(null);
    server.start();
  }

  /** The address it listens on (the port is chosen when 0 was asked for). */
  InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
