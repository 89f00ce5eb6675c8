package dev.braid.correlator.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TracesContextMap;
import dev.braid.correlator.conformance.PinProbe.Seen;
import dev.braid.examples.ExampleService;
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
  static final Duration INCOMPATIBLE_STOP = Duration.ofSeconds(20);
  static final String SECOND_WRITER = "a second writer reuses the pin and writes into it";
  static final String INCOMPATIBLE = "a writer that meets a pin of another layout says what differs, stops, leaves the pin";

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
  List<CheckResult> secondWriter(BpfMap map, ExampleService shop, Writer first, OtlpReceiver receiver) throws InterruptedException, IOException {
    progress.accept("starting a second writer next to the first");
    Path pin = TracesContextMap.pinPath(pinRoot);
    int mapId = map.info().id();
    Path dir = Files.createTempDirectory("braid-conformance-second");
    Path copy = Files.copy(workload, dir.resolve(workload.getFileName()));
    try (ExampleService other = ExampleService.start(copy, "-addr", "127.0.0.1:0");
        WriterProcess second = WriterProcess.start(writerCommand, copy, pinRoot, receiver.endpoint())) {
      Optional<Seen> seen = probe.firstRequestSeen(map, other, second);
      seen.ifPresent(s -> PinProbe.answered(s.response()));
      int idNow = PinProbe.pinnedMapId(pin);
      CheckResult reuses = CheckResult.of("2.1", SECOND_WRITER, seen.isPresent() && idNow == mapId,
          seen.isEmpty() ? "no entry for its process within " + PinProbe.READY.toSeconds() + " s; it said:\n" + second.tail()
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
   * 2.2: the writer, started where a map of another layout (value of 16 bytes) is pinned, says
   * what differs and stops, and leaves that pin as it was.
   */
  CheckResult incompatiblePin(OtlpReceiver receiver) throws InterruptedException, IOException {
    progress.accept("starting the writer where a map of another layout is pinned");
    Path root = Files.createTempDirectory(pinRoot, "incompatible-");
    try {
      Path foreignPin = TracesContextMap.pinPath(root);
      Files.createDirectories(foreignPin.getParent());
      Files.setAttribute(foreignPin.getParent(), "unix:mode", TracesContextMap.DIRECTORY_MODE);
      int foreignId;
      try (BpfMap foreign = BpfMap.create(TracesContextMap.TYPE, TracesContextMap.NAME, TracesContextMap.KEY_SIZE, 16, TracesContextMap.MAX_ENTRIES)) {
        foreign.pin(foreignPin);
        foreignId = foreign.info().id();
      }
      try (WriterProcess writer = WriterProcess.start(writerCommand, workload, root, receiver.endpoint())) {
        boolean stopped = PinProbe.poll(INCOMPATIBLE_STOP, () -> !writer.alive());
        String said = writer.tail();
        boolean untouched = PinProbe.pinnedMapId(foreignPin) == foreignId;
        boolean named = said.toLowerCase().contains("value") && said.contains("16") && said.contains("24"); // the size it found and the one it wants
        return CheckResult.of("2.2", INCOMPATIBLE, stopped && named && untouched,
            (stopped ? "stopped" : "still running after " + INCOMPATIBLE_STOP.toSeconds() + " s") + (named ? ", named the value size" : ", did not name the value size (16, want 24)")
                + (untouched ? ", pin untouched" : ", the pin was replaced or removed") + "; it said: " + lastLine(said));
      }
    } finally {
      ConformanceSuite.removeTree(root); // the foreign pin, and whatever the writer pinned next to it
    }
  }

  private static String lastLine(String text) {
    String t = text.strip();
    return t.substring(t.lastIndexOf('\n') + 1);
  }
}
