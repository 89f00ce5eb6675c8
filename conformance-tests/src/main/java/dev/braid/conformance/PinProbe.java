package dev.braid.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * What the suite's checks share: requests with traceparents the suite chose, sent to a service
 * under the writer, and the pin's entries read back while they run.
 */
final class PinProbe {
  /** How long a writer may take, by default, to pin the map and show a request's context (--cover-within). */
  static final Duration READY = Duration.ofSeconds(60);
  /** How long the suite watches that something stays gone. */
  static final Duration WATCH = Duration.ofMillis(300);
  /** No request of the suite's waits longer: a writer that stalls the service fails checks, not the run. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** A held request's answer is waited for this long: a writer may take 30 s to stop under it. */
  static final Duration HOLD_TIMEOUT = Duration.ofSeconds(90);
  /** The span id of every traceparent the suite sends: the writer's server spans are its children. */
  static final String PARENT_ID = "b7ad6b7169203331";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final HttpClient http = HttpClient.newHttpClient();
  private final Duration ready;

  PinProbe(Duration ready) {
    this.ready = ready;
  }

  /** How long a writer may take to pin the map and show a request's context. */
  Duration ready() {
    return ready;
  }

  /** A thread's entry as the pin holds it. */
  record Entry(long key, TraceContext context) {}

  /** A request whose entry the pin showed while it ran, {@code after} the suite began to ask. */
  record Seen(String trace, Entry entry, CompletableFuture<HttpResponse<String>> response, Duration after) {
    /** "covered after 1.2 s", for figures: a writer may attach to a new process late (3, 7: the suite waits). */
    String covered() {
      return String.format(java.util.Locale.ROOT, "covered after %.1f s", after.toMillis() / 1000.0);
    }
  }

  /**
   * Sends 400 ms requests until the pin shows one's trace id (until the writer is ready, requests
   * come and go unseen); empty when none did within {@link #ready()} or the writer died.
   */
  Optional<Seen> firstRequestSeen(BpfMap map, ServiceProcess service, Writer writer) throws InterruptedException {
    return firstRequestSeen(map, service, writer, "/checkout?ms=400");
  }

  /** The same with requests of {@code slowPath}, a route of the service that runs a while. */
  Optional<Seen> firstRequestSeen(BpfMap map, ServiceProcess service, Writer writer, String slowPath) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + ready.toNanos();
    while (System.nanoTime() < deadline && writer.alive()) {
      String trace = newTraceId();
      CompletableFuture<HttpResponse<String>> response = http.sendAsync(request(service, slowPath, trace), HttpResponse.BodyHandlers.ofString());
      Optional<Seen> seen = seenWhileItRuns(map, service, trace, response, start, deadline);
      if (seen.isPresent()) {
        return seen;
      }
    }
    return Optional.empty();
  }

  /**
   * Holds requests ({@link #hold}) until the pin shows one's trace id while it burns, each for
   * up to 2 s before it is released and another is sent; empty when none was seen within {@link
   * #ready()} or the writer died. The one seen burns until {@link #release}.
   */
  Optional<Seen> holdUntilSeen(BpfMap map, ServiceProcess service, Writer writer) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + ready.toNanos();
    while (System.nanoTime() < deadline && writer.alive()) {
      String trace = newTraceId();
      CompletableFuture<HttpResponse<String>> response = hold(service, trace);
      Optional<Seen> seen = seenWhileItRuns(map, service, trace, response, start, Math.min(deadline, System.nanoTime() + 2_000_000_000L));
      if (seen.isPresent()) {
        return seen;
      }
      release(service, trace);
      answered(response);
      Thread.sleep(50); // a service that answers at once (no /hold) is not asked in a spin
    }
    return Optional.empty();
  }

  /** Polls the pin for trace {@code trace} while its request runs, until {@code giveUp} (System.nanoTime). */
  private static Optional<Seen> seenWhileItRuns(BpfMap map, ServiceProcess service, String trace, CompletableFuture<HttpResponse<String>> response,
      long start, long giveUp) throws InterruptedException {
    while (!response.isDone() && System.nanoTime() < giveUp) {
      Optional<Entry> e = entryOf(map, service.pid(), trace);
      if (e.isPresent()) {
        return Optional.of(new Seen(trace, e.get(), response, Duration.ofNanos(System.nanoTime() - start)));
      }
      Thread.sleep(5);
    }
    return Optional.empty();
  }

  /** The entry of a thread of {@code pid} that shows trace {@code trace}, now. */
  static Optional<Entry> entryOf(BpfMap map, int pid, String trace) {
    return entriesOf(map, pid).stream().filter(e -> e.context().traceId().equals(trace)).findFirst();
  }

  /**
   * A request of trace {@code trace} that burns CPU until {@link #release} of the same trace (the
   * shop's /hold), waited for longer than a writer may take to stop.
   */
  CompletableFuture<HttpResponse<String>> hold(ServiceProcess service, String trace) {
    HttpRequest held = HttpRequest.newBuilder(request(service, "/hold?key=" + trace, trace), (name, value) -> true).timeout(HOLD_TIMEOUT).build();
    return http.sendAsync(held, HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Lets the hold of {@code trace} answer. The release is a request of its own, of a new trace,
   * which it returns: its thread may run the held request's end just before it, so a writer that
   * leaves entries behind may leave the release's instead of the held one's.
   */
  String release(ServiceProcess service, String trace) throws InterruptedException {
    String releaseTrace = newTraceId();
    try {
      http.send(request(service, "/release?key=" + trace, releaseTrace), HttpResponse.BodyHandlers.discarding());
    } catch (java.io.IOException e) {
      // the service died: the check that waits for the held request's answer says so
    }
    return releaseTrace;
  }

  CompletableFuture<HttpResponse<String>> slowRequest(ServiceProcess service, String trace, int ms) {
    return http.sendAsync(request(service, "/checkout?ms=" + ms, trace), HttpResponse.BodyHandlers.ofString());
  }

  /** A request of {@code path} with a traceparent of {@code trace} and {@link #PARENT_ID}. */
  HttpRequest request(ServiceProcess service, String path, String trace) {
    return HttpRequest.newBuilder(URI.create(service.url() + path)).timeout(REQUEST_TIMEOUT)
        .header("traceparent", "00-" + trace + "-" + PARENT_ID + "-01").build();
  }

  /** Waits for a response (its timeout bounds the wait); whether one came. */
  static boolean answered(CompletableFuture<HttpResponse<String>> response) {
    return response.handle((r, failure) -> failure == null).join();
  }

  HttpClient http() {
    return http;
  }

  /** The entries of a process's threads, now. */
  static List<Entry> entriesOf(BpfMap map, int pid) {
    List<Entry> found = new ArrayList<>();
    for (byte[] key : map.keys()) {
      long k = TracesContextMap.keyValue(key);
      if (k >>> 32 == pid) {
        map.lookup(key).ifPresent(v -> found.add(new Entry(k, TraceContext.fromBytes(v))));
      }
    }
    return found;
  }

  /** The most that {@code count} gave while polled for {@code window}. */
  static long mostSeenWithin(Duration window, LongSupplier count) throws InterruptedException {
    long most = 0;
    long deadline = System.nanoTime() + window.toNanos();
    do {
      most = Math.max(most, count.getAsLong());
      Thread.sleep(5);
    } while (System.nanoTime() < deadline);
    return most;
  }

  /** Polls every 5 ms until {@code condition} holds or {@code limit} passed; whether it holds. */
  static boolean poll(Duration limit, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(5);
    }
    return condition.getAsBoolean();
  }

  static String newTraceId() {
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    id[0] |= 1; // never all zero
    return HexFormat.of().formatHex(id);
  }

  /** The id of the map pinned at {@code pin}, 0 when none is. */
  static int pinnedMapId(java.nio.file.Path pin) {
    return BpfMap.openPinned(pin).map(m -> {
      try (m) {
        return m.info().id();
      }
    }).orElse(0);
  }
}
