package dev.braid.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TracesContextMap;
import dev.braid.conformance.PinProbe.Seen;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** 2.1, 2.2, 2.4: a writer next to another writer of the same pin, and a writer that meets a pin of another layout. */
final class CoexistenceChecks {
  /** 2.2: how soon a writer that meets an incompatible pin stops. */
  static final Duration INCOMPATIBLE_STOP = Duration.ofSeconds(12);
  static final String SECOND_WRITER = "a second writer reuses the pin and writes into it";
  static final String INCOMPATIBLE = "a writer leaves a pin of another layout untouched and unused";
  static final String INCOMPATIBLE_STOPS = "a writer that meets a pin of another layout says what differs and stops";

  private final Path workload;
  private final Path pinRoot;
  private final String writerCommand;
  private final PinProbe probe;
  private final Consumer<String> progress;

  CoexistenceChecks(Path workload, Path pinRoot, String writerCommand, PinProbe probe, Consumer<String> progress) {
    this.workload = workload;
    this.pinRoot = pinRoot;
    this.writerCommand = writerCommand;
    this.probe = probe;
    this.progress = progress;
  }

  /**
   * 2.1, 2.4: a second writer, for a copy of the workload's executable, starts while the first
   * runs: it reuses the pin and writes into it, and when it stops, the pin and the first writer's
   * entries stay.
   */
  List<CheckResult> secondWriter(BpfMap map, ServiceProcess shop, Writer first, OtlpReceiver receiver) throws InterruptedException, IOException {
    progress.accept("starting a second writer next to the first");
    Path pin = TracesContextMap.pinPath(pinRoot);
    int mapId = map.info().id();
    Path dir = Files.createTempDirectory("braid-conformance-second");
    Path copy = Files.copy(workload, dir.resolve(workload.getFileName()));
    try (ServiceProcess other = ServiceProcess.start(copy, "-addr", "127.0.0.1:0");
        WriterProcess second = WriterProcess.start(writerCommand, copy, pinRoot, receiver)) {
      Optional<Seen> seen = probe.firstRequestSeen(map, other, second);
      seen.ifPresent(s -> PinProbe.answered(s.response()));
      int idNow = PinProbe.pinnedMapId(pin);
      CheckResult reuses = CheckResult.of("2.1", SECOND_WRITER, seen.isPresent() && idNow == mapId,
          seen.isEmpty() ? "no entry for its process within " + probe.ready().toSeconds() + " s; it said:\n" + second.tail()
              : idNow == mapId ? "map id " + mapId + " kept" : "the pin now holds map id " + idNow + ", not " + mapId);
      second.stop();
      long left = PinProbe.mostSeenWithin(PinProbe.WATCH, () -> PinProbe.entriesOf(map, other.pid()).size());
      boolean firstWorks = probe.firstRequestSeen(map, shop, first).map(s -> PinProbe.answered(s.response())).isPresent();
      int idAfter = PinProbe.pinnedMapId(pin);
      CheckResult leaves = CheckResult.of("2.4", "when the second stops, the pin and the first writer's entries stay", firstWorks && idAfter == mapId && left == 0,
          (idAfter == mapId ? "map id kept" : "the pin holds map id " + idAfter + ", not " + mapId) + "; the first writer "
              + (firstWorks ? "still shows requests" : "shows requests no more") + "; " + left + " entries of the second's process left");
      return List.of(reuses, leaves);
    } finally {
      ConformanceSuite.removeTree(dir);
    }
  }

  /**
   * 2.2: the writer, started where a map of another layout (value of 16 bytes) is pinned, leaves
   * that pin as it was and writes nothing into it (the contract); braid's profile: it also says
   * what differs and stops. A writer that keeps running is judged after {@link #INCOMPATIBLE_STOP}.
   */
  List<CheckResult> incompatiblePin(OtlpReceiver receiver) throws InterruptedException, IOException {
    progress.accept("starting the writer where a map of another layout is pinned");
    Path root = Files.createTempDirectory(pinRoot, "incompatible-");
    try {
      Path foreignPin = TracesContextMap.pinPath(root);
      Files.createDirectories(foreignPin.getParent());
      Files.setAttribute(foreignPin.getParent(), "unix:mode", TracesContextMap.DIRECTORY_MODE);
      try (BpfMap foreign = BpfMap.create(TracesContextMap.TYPE, TracesContextMap.NAME, TracesContextMap.KEY_SIZE, 16, TracesContextMap.MAX_ENTRIES);
          ServiceProcess service = ServiceProcess.start(workload, "-addr", "127.0.0.1:0");
          WriterProcess writer = startWriter(foreign, foreignPin, root, receiver)) {
        // Requests while it runs: a writer that used the pin would write their entries into it,
        // and delete them when they end, so the pin is read while each runs.
        boolean stopped = false;
        long written = 0;
        for (long deadline = System.nanoTime() + INCOMPATIBLE_STOP.toNanos(); !stopped && System.nanoTime() < deadline; stopped = !writer.alive()) {
          var response = probe.slowRequest(service, PinProbe.newTraceId(), 200);
          written = Math.max(written, PinProbe.mostSeenWithin(Duration.ofMillis(150), () -> foreign.keys().size()));
          PinProbe.answered(response);
        }
        String said = writer.tail();
        boolean untouched = PinProbe.pinnedMapId(foreignPin) == foreign.info().id();
        boolean named = said.toLowerCase().contains("value") && said.contains("16") && said.contains("24"); // the size it found and the one it wants
        String figure = (stopped ? "stopped" : "still running after " + INCOMPATIBLE_STOP.toSeconds() + " s")
            + (untouched ? ", pin untouched" : ", the pin was replaced or removed") + ", at most " + written + " entries in it while requests ran"
            + (named ? ", named the value size" : ", did not name the value size (16, want 24)") + "; it said: " + lastLine(said);
        return List.of(CheckResult.of("2.2", INCOMPATIBLE, untouched && written == 0, figure),
            CheckResult.of("2.2", INCOMPATIBLE_STOPS, stopped && named && untouched, figure).profile());
      }
    } finally {
      ConformanceSuite.removeTree(root); // the foreign pin, and whatever the writer pinned next to it
    }
  }

  /** Pins {@code foreign} where the writer looks, then starts the writer. */
  private WriterProcess startWriter(BpfMap foreign, Path foreignPin, Path root, OtlpReceiver receiver) {
    foreign.pin(foreignPin);
    return WriterProcess.start(writerCommand, workload, root, receiver);
  }

  private static String lastLine(String text) {
    String t = text.strip();
    return t.substring(t.lastIndexOf('\n') + 1);
  }
}
