package dev.braid.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.TracesContextMap;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes any writer stale, for the suite to catch: it creates and pins traces_ctx_v1 itself (the
 * contract's layout, so a good writer started after it reuses the pin), prints "ready", and from
 * then on, a few milliseconds later, puts back every entry that disappears (a span that ended, a
 * thread that exited) and every span that no thread shows any more (its thread was given another
 * span before anyone deleted it), and never deletes one. Because it is watching before the other
 * writer starts, it has seen every entry that lives longer than its poll.
 */
public final class StaleEntriesWriter {
  /** Passes of the loop that puts entries back. */
  private static final AtomicLong PASSES = new AtomicLong();

  private StaleEntriesWriter() {}

  public static void main(String[] args) throws Exception {
    try (BpfObject pinned = TracesContextMap.loadShared(ReferenceWriter.OBJECT, Path.of(args[0]))) {
      BpfMap map = pinned.map(TracesContextMap.NAME);
      Runtime.getRuntime().addShutdownHook(new Thread(StaleEntriesWriter::outliveItsGroup));
      System.out.println("ready");
      System.out.flush();
      Map<String, byte[]> seen = new HashMap<>();
      while (true) {
        Map<String, byte[]> now = new HashMap<>();
        for (byte[] key : map.keys()) {
          map.lookup(key).ifPresent(v -> now.put(HexFormat.of().formatHex(key), v));
        }
        Set<String> shown = new HashSet<>();
        now.values().forEach(v -> shown.add(HexFormat.of().formatHex(v)));
        for (Map.Entry<String, byte[]> e : seen.entrySet()) {
          String span = HexFormat.of().formatHex(e.getValue());
          if (!now.containsKey(e.getKey()) || !shown.contains(span)) {
            map.update(HexFormat.of().parseHex(e.getKey()), e.getValue());
            now.put(e.getKey(), e.getValue());
            shown.add(span);
          }
        }
        seen = now;
        PASSES.incrementAndGet();
        Thread.sleep(2);
      }
    }
  }

  /**
   * Stopped together with the writer beside it (the suite signals the whole process group), it
   * keeps putting entries back until the rest of its group has exited, and for two passes more:
   * so what the other writer deletes on its way out comes back, whichever process the signal
   * reaches first.
   */
  private static void outliveItsGroup() {
    String group = WriterProcess.processGroup(ProcessHandle.current().pid());
    List<ProcessHandle> neighbours =
        ProcessHandle.allProcesses().filter(p -> p.pid() != ProcessHandle.current().pid() && group.equals(WriterProcess.processGroup(p.pid()))).toList();
    for (ProcessHandle p : neighbours) {
      try {
        p.onExit().get(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException e) {
        // it stops without waiting for more
      }
    }
    long passes = PASSES.get();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (PASSES.get() < passes + 2 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
  }
}
