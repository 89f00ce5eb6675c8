package dev.braid.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.conformance.PinProbe.Entry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@link ExactnessCheck} audits: a ground-truth service that logs which goroutine served which
 * request ({@code -truth}), with one goroutine busy outside any request, and the load of many
 * kinds of requests that clients send it, each with a traceparent of {@link PinProbe#PARENT_ID}.
 */
sealed interface AuditWorkload permits AuditWorkload.Http, AuditWorkload.Grpc {
  /** How many clients send requests at once. */
  int CLIENTS = 4;

  /** The service's executable, which the writer traces. */
  Path service();

  /** For check names: "" for HTTP, " (gRPC)". */
  String label();

  /** Starts the service, its truth going to {@code truth}. */
  default ServiceProcess start(Path truth) {
    return ServiceProcess.start(service(), "-addr", "127.0.0.1:0", "-spinners", "1", "-truth", truth.toString());
  }

  /**
   * Sends slow requests until the pin shows one's trace id while it runs (until the writer is
   * ready, requests come and go unseen); empty then, else why not, when none did {@code within}.
   */
  Optional<String> untraced(BpfMap map, ServiceProcess service, Writer writer, Duration within) throws InterruptedException;

  /** Starts the load; closing it stops it, and returns once every client has. */
  RunningLoad startLoad(ServiceProcess service);

  interface RunningLoad extends AutoCloseable {
    @Override
    void close() throws InterruptedException;
  }

  /**
   * A service over HTTP/1.1 with a {@code -truth} log: its {@code routes} in turn, and {@code
   * slowRoute}, one that runs a while, until the writer shows a request.
   */
  record Http(Path service, PinProbe probe, List<String> routes, String slowRoute) implements AuditWorkload {
    /** examples/shop: routes of CPU, a channel, a sleep, a raw syscall, a socket, a locked thread. */
    static Http shop(Path shop, PinProbe probe) {
      return new Http(shop, probe, List.of("/checkout?ms=3", "/search?ms=2", "/wait/chan?ms=1", "/wait/sleep?ms=1",
          "/wait/syscall?ms=1", "/wait/socket?ms=1", "/locked?ms=2", "/hello", "/api/cart?items=60"), "/checkout?ms=400");
    }

    @Override
    public String label() {
      return "";
    }

    @Override
    public Optional<String> untraced(BpfMap map, ServiceProcess service, Writer writer, Duration within) throws InterruptedException {
      Optional<PinProbe.Seen> seen = probe.firstRequestSeen(map, service, writer, slowRoute);
      seen.ifPresent(s -> PinProbe.answered(s.response()));
      return seen.isPresent() ? Optional.empty() : Optional.of("no entry with a request's trace id");
    }

    @Override
    public RunningLoad startLoad(ServiceProcess service) {
      AtomicBoolean over = new AtomicBoolean();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int first = c;
        clients.add(Thread.ofPlatform().name("audit-client-" + c).start(() -> {
          for (int i = first; !over.get(); i++) {
            try {
              probe.http().send(probe.request(service, routes.get(i % routes.size()), PinProbe.newTraceId()), HttpResponse.BodyHandlers.discarding());
            } catch (IOException e) {
              return; // the service died: the audit judges what it has
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
        }));
      }
      return () -> {
        over.set(true);
        for (Thread t : clients) {
          t.join();
        }
      };
    }
  }

  /**
   * examples/grpc's grpcshop, called by its grpcload: unary calls that burn CPU, fail, or are
   * rejected, and a server stream, each with a traceparent in its metadata.
   */
  record Grpc(Path service, Path client) implements AuditWorkload {
    private static final String ROUTES = "Checkout:3,ListItems:2,Fail:1,Reject:1,Checkout:0";

    @Override
    public String label() {
      return " (gRPC)";
    }

    @Override
    public Optional<String> untraced(BpfMap map, ServiceProcess service, Writer writer, Duration within) throws InterruptedException {
      long deadline = System.nanoTime() + within.toNanos();
      String why = "no entry while a call ran";
      try {
        Path record = Files.createTempFile("braid-conformance-rpc", ".jsonl");
        try {
          while (System.nanoTime() < deadline && writer.alive()) {
            // One 400 ms RPC at a time: an entry of the service's process while it runs is its.
            Process rpc = grpcload(service, "Checkout:400", 1, "-n", "1", "-out", record.toString()).start();
            Optional<Entry> seen = Optional.empty();
            while (rpc.isAlive() && seen.isEmpty() && System.nanoTime() < deadline) {
              seen = PinProbe.entriesOf(map, service.pid()).stream().findFirst();
              Thread.sleep(5);
            }
            if (!rpc.waitFor(PinProbe.REQUEST_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
              rpc.destroyForcibly();
            }
            String sent = sentTraceId(record);
            if (seen.isPresent() && seen.get().context().traceId().equals(sent)) {
              return Optional.empty();
            }
            if (seen.isPresent()) {
              why = "entries while a call ran, but of another trace (" + seen.get().context().traceId() + ", not the call's " + sent
                  + "): the writer did not continue the traceparent in the call's metadata";
            }
          }
          return Optional.of(why);
        } finally {
          Files.deleteIfExists(record);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("calling " + service.address() + " with " + client, e);
      }
    }

    @Override
    public RunningLoad startLoad(ServiceProcess service) {
      try {
        // It stops on SIGTERM, after its calls in flight are answered.
        Process load = grpcload(service, ROUTES, CLIENTS, "-d", PinProbe.REQUEST_TIMEOUT.toSeconds() + ExactnessCheck.LOAD_LIMIT.toSeconds() + "s").start();
        return () -> {
          load.destroy();
          if (!load.waitFor(PinProbe.REQUEST_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            load.destroyForcibly();
          }
        };
      } catch (IOException e) {
        throw new UncheckedIOException("starting " + client, e);
      }
    }

    private ProcessBuilder grpcload(ServiceProcess service, String routes, int clients, String... more) {
      List<String> command = new ArrayList<>(List.of(client.toString(), "-target", service.address(), "-routes", routes,
          "-c", Integer.toString(clients), "-parent", PinProbe.PARENT_ID));
      command.addAll(List.of(more));
      return new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
    }

    private static final Pattern TRACE_ID = Pattern.compile("\"trace_id\":\"([0-9a-f]{32})\"");

    /** The trace id grpcload recorded (a JSON line) for its one call, or "" when it recorded none. */
    private static String sentTraceId(Path record) throws IOException {
      Matcher m = TRACE_ID.matcher(Files.readString(record));
      return m.find() ? m.group(1) : "";
    }
  }
}
