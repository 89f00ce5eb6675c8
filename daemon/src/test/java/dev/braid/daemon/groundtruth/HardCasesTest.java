package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProfiledSample;
import dev.braid.examples.Examples;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The cases where a goroutine's context is easiest to get wrong, each against ground truth. */
@Tag("kernel")
class HardCasesTest {
  private static final Duration LOAD = Duration.ofSeconds(4);

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  /** The shop under a load of {@code routes} that lasts {@link #LOAD}, then until braid handed out what {@code goal} needs. */
  private static TracedRun shop(Map<String, String> env, List<String> args, String routes, Goal goal) {
    TracedRun.Service shop = TracedRun.Service.shop(Examples.binary("shop"), args.toArray(String[]::new));
    for (Map.Entry<String, String> e : env.entrySet()) {
      shop = shop.withEnv(e.getKey(), e.getValue());
    }
    return TracedRun.run(List.of(shop), new TracedRun.Load("shop", routes, LOAD, 2).until(goal), UnaryOperator.identity());
  }

  private static Goal checkoutAndSearch(int burnSamples, int spinnerSamples) {
    return Goal.samplesIn("main.priceCart", burnSamples).and(Goal.samplesIn("main.rankResults", burnSamples))
        .and(Goal.samplesIn("main.compactIndex", spinnerSamples));
  }

  @ParameterizedTest(name = "GOMAXPROCS={0}")
  @ValueSource(ints = {1, 2})
  void everyGomaxprocs(int procs) {
    TracedRun run = shop(Map.of("GOMAXPROCS", Integer.toString(procs)), List.of("-spinners", "2"), "/checkout?ms=4,/search?ms=4", checkoutAndSearch(50, 50));
    checkoutAndSearchBesideSpinners(run, 50, 50);
  }

  @Test
  void manyBusyUntracedGoroutinesShareThreadsWithTracedOnes() {
    TracedRun run = shop(Map.of("GOMAXPROCS", "2"), List.of("-spinners", "16"), "/checkout?ms=6,/search?ms=6", checkoutAndSearch(30, 200));
    checkoutAndSearchBesideSpinners(run, 30, 200);
  }

  /** /checkout and /search exactly attributed, with at least so many samples, and the spinners' work in no span. */
  private static void checkoutAndSearchBesideSpinners(TracedRun run, int burnSamples, int spinnerSamples) {
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", burnSamples);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/search", "main.rankResults", burnSamples);
    Attribution.untracedWorkCarriesNoSpan(run, spinnerSamples);
  }

  @Test
  void handlersThatBlockMidSpanResumeWithTheirSpanOnOtherThreads() {
    Map<String, String> burnOf =
        Map.of(
            "/wait/chan", "main.afterChannel", "/wait/sleep", "main.afterSleep", "/wait/syscall", "main.afterSyscall",
            "/wait/socket", "main.afterSocketRead");
    // Goroutines come back on another thread than the one their span started on, sometimes (which route's is up to the scheduler).
    Goal movedThreads = Goal.onBatches("a sample after a wait on another thread than its span's first", batches -> batches.stream()
        .flatMap(b -> b.samples().stream()).anyMatch(s -> burnOf.values().stream().anyMatch(f -> TracedRun.holds(s, f))
            && s.span().isPresent() && s.tid() != s.span().get().startTid()));
    Goal goal = burnOf.values().stream().map(f -> Goal.samplesIn(f, 20)).reduce(movedThreads, Goal::and);
    TracedRun run = shop(Map.of(), List.of("-spinners", "1"), "/wait/chan?ms=5,/wait/sleep?ms=5,/wait/syscall?ms=5,/wait/socket?ms=5", goal);
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    for (Map.Entry<String, String> route : burnOf.entrySet()) {
      Attribution.burnSamplesCarryTheirRoutesSpan(run, route.getKey(), route.getValue(), 20);
    }
    // Goroutines came back on another thread than the one their span started on, at least sometimes
    // (which route's do is up to the scheduler).
    assertThat(burnOf.values().stream().flatMap(f -> run.samplesIn(f).stream()))
        .as("samples after a wait on a thread other than their span's first")
        .anyMatch(s -> s.span().isPresent() && s.tid() != s.span().get().startTid());
  }

  @Test
  void aGoroutineLockedToItsThreadKeepsItsSpan() {
    TracedRun run = shop(Map.of(), List.of("-spinners", "1"), "/locked?ms=5,/checkout?ms=3",
        Goal.samplesIn("main.lockedBurn", 30).and(Goal.samplesIn("main.priceCart", 20)));
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/locked", "main.lockedBurn", 30);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", 20);
  }

  @Test
  void aGoroutineSpawnedInAHandlerCarriesItsSpanAfterTheHandlerReturned() {
    TracedRun run = shop(Map.of(), List.of("-spinners", "1"), "/spawn?ms=10,/checkout?ms=2",
        Goal.samplesIn("main.spawnedBurn", 50).and(Goal.samplesIn("main.priceCart", 10)));
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    List<ProfiledSample> spawned = run.samplesIn("main.spawnedBurn");
    Figures.atLeast("main.spawnedBurn samples", spawned.size(), 50);
    // Each carries its /spawn span, and was taken after the handler had returned: the span ended, the work it started went on.
    assertThat(spawned).allSatisfy(s -> {
      assertThat(s.span()).as("span of a spawnedBurn sample").isPresent();
      assertThat(Attribution.path(s.span().get())).isEqualTo("/spawn");
      assertThat(s.epochNanos()).isGreaterThan(s.span().get().endEpochNanos());
    });
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", 10);
  }

  /** The frontend calls the backend over HTTP/1.1, or over HTTPS with HTTP/2: the client span says which. */
  @ParameterizedTest(name = "backend over HTTP/2: {0}")
  @ValueSource(booleans = {false, true})
  void aClientCallIsAClientSpanNestedInTheServerSpan(boolean http2) {
    String version = http2 ? "2" : "1.1";
    TracedRun.Service frontend = TracedRun.Service.shop(Examples.binary("shop"), "-spinners", "1").named("frontend");
    TracedRun.Service plain = TracedRun.Service.shop(Examples.binary("shop")).named("backend");
    TracedRun.Service backend = http2 ? plain.overTls() : plain;
    TracedRun run =
        TracedRun.run(
            List.of(frontend, backend),
            new TracedRun.Load("frontend", "/chain?ms=4&to={{backend}}/search", LOAD, 2)
                .until(Goal.samplesIn("main.composeReply", 20).and(Goal.samplesIn("main.rankResults", 10))),
            UnaryOperator.identity());
    Map<String, List<CompletedSpan>> byTrace = run.spans().stream().collect(Collectors.groupingBy(s -> s.context().traceId()));
    for (var sent : run.sent()) {
      List<CompletedSpan> trace = byTrace.get(sent.get("trace_id").asText());
      assertThat(trace).as("spans of trace %s", sent.get("trace_id").asText()).hasSize(2);
      CompletedSpan server = trace.stream().filter(s -> s.kind() == SpanKind.SERVER).findFirst().orElseThrow();
      CompletedSpan client = trace.stream().filter(s -> s.kind() == SpanKind.CLIENT).findFirst().orElseThrow();
      assertThat(server.process().pid()).isEqualTo(run.pid("frontend"));
      assertThat(server.attributes().get(CompletedSpan.NETWORK_PROTOCOL_VERSION)).isEqualTo("1.1");
      assertThat(client.parentSpanId()).isEqualTo(server.context().spanId());
      assertThat(client.attributes().get(CompletedSpan.NETWORK_PROTOCOL_VERSION)).as("the version of the backend's response").isEqualTo(version);
      assertThat(client.status().getStatusCode()).isEqualTo(io.opentelemetry.api.trace.StatusCode.UNSET);
      assertThat(client.process().pid()).isEqualTo(run.pid("frontend"));
      assertThat(client.name()).isEqualTo("GET");
      assertThat(client.attributes().get(AttributeKey.stringKey("url.path"))).isEqualTo("/search");
      assertThat(client.attributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(200);
      assertThat(client.attributes().get(AttributeKey.longKey("server.port"))).isPositive();
      assertThat(client.startEpochNanos()).isBetween(server.startEpochNanos(), server.endEpochNanos());
      assertThat(client.endEpochNanos()).isBetween(client.startEpochNanos(), server.endEpochNanos());
    }
    // Without --propagate the backend starts traces of its own.
    Set<String> sentTraces = run.sent().stream().map(r -> r.get("trace_id").asText()).collect(Collectors.toSet());
    assertThat(run.spans()).filteredOn(s -> s.process().pid() == run.pid("backend")).isNotEmpty()
        .allSatisfy(s -> assertThat(sentTraces).doesNotContain(s.context().traceId()))
        .allSatisfy(s -> assertThat(s.attributes().get(CompletedSpan.NETWORK_PROTOCOL_VERSION)).isEqualTo(version));
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/chain", "main.composeReply", 20);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/search", "main.rankResults", 10);
  }

  /** No spinners here: idle Ps then search for work on CPU, which gives ~20-30 samples in the scheduler, not ~5. */
  @Test
  void schedulerWorkBetweenGoroutinesCarriesNoSpan() {
    TracedRun run = shop(Map.of(), List.of(), "/wait/chan?ms=1,/wait/sleep?ms=1,/wait/socket?ms=1",
        Goal.onBatches("20 samples in the scheduler looking for work", batches -> scheduling(batches.stream().flatMap(b -> b.samples().stream())).size() >= 20));
    List<ProfiledSample> scheduling = scheduling(run.samples().stream());
    Figures.atLeast("samples in the scheduler looking for work", scheduling.size(), 20);
    assertThat(scheduling).allSatisfy(s -> assertThat(s.context()).as("context while the scheduler looks for work").isEmpty());
  }

  private static List<ProfiledSample> scheduling(java.util.stream.Stream<ProfiledSample> samples) {
    return samples.filter(s -> TracedRun.holds(s, "runtime.findRunnable") || TracedRun.holds(s, "runtime.stopm") || TracedRun.holds(s, "runtime.netpoll"))
        .toList();
  }

  /**
   * Back from a blocking syscall while spinners hold the only P, a handler's goroutine is queued
   * and its thread parks in stopm without passing schedule: the thread must not keep the span.
   */
  @Test
  void aThreadParkedAfterASyscallDropsTheSpanOfTheGoroutineItQueued() {
    TracedRun run = shop(Map.of("GOMAXPROCS", "1"), List.of("-spinners", "2"), "/wait/syscall?ms=2", Goal.NONE);
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    // The parked thread keeps no entry once the load is over (checked here), nor carries the span when sampled.
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    // A thread is on CPU in stopm only for a moment before it sleeps: 0 to a few samples a run.
    Figures.record("samples of threads parking in runtime.stopm", run.samplesIn("runtime.stopm").size(), "any");
    assertThat(run.samplesIn("runtime.stopm")).allSatisfy(s -> assertThat(s.context()).as("context of a parked thread: %s", Attribution.stack(s)).isEmpty());
  }

  /**
   * The first GC starts the runtime's mark workers from whichever goroutine allocates past the
   * heap goal: here a handler, inside its span. The workers live on and must not inherit it.
   */
  @Test
  void theGcWorkersAHandlerStartedNeverCarryItsSpan() {
    TracedRun run = shop(Map.of("GOGC", "50"), List.of(), "/api/cart?items=2000", Goal.samplesIn("runtime.gcBgMarkWorker", 20));
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    List<ProfiledSample> marking = run.samplesIn("runtime.gcBgMarkWorker");
    Figures.atLeast("samples of the GC's mark workers", marking.size(), 20);
    assertThat(marking).allSatisfy(s -> assertThat(s.context()).as("context of a GC mark worker: %s", Attribution.stack(s)).isEmpty());
  }

  /**
   * Other processes keep both CPUs busy, so the kernel preempts the service's threads anywhere,
   * also between a goroutine leaving its thread and the scheduler running: a goroutine another
   * thread picks up meanwhile must not be shown on both, nor its span after it ended.
   */
  @Test
  void threadsThatTheKernelPreemptsMidSwitchShowNoStaleSpan() throws Exception {
    List<Process> hogs = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        hogs.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
      }
      TracedRun run = shop(Map.of(), List.of(), "/checkout?ms=2,/wait/chan?ms=1,/wait/sleep?ms=1", Goal.samplesIn("main.priceCart", 20));
      Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
      Attribution.noSampleCarriesAWrongOrStaleSpan(run);
      Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", 20);
    } finally {
      hogs.forEach(Process::destroyForcibly);
    }
  }
}
