package dev.braid.correlator.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.TracesContextMap;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Makes any writer stale, for the suite to catch: it creates and pins traces_ctx_v1 itself (the
 * contract's layout, so a good writer started after it reuses the pin), prints "ready", and from
 * then on puts back every entry that disappears (a span that ended, a thread that exited) a few
 * milliseconds later, and never deletes one. Because it is watching before the other writer
 * starts, it has seen every entry that lives longer than its poll.
 */
public final class StaleEntriesWriter {
  private StaleEntriesWriter() {}

  public static void main(String[] args) throws Exception {
    try (BpfObject pinned = TracesContextMap.loadShared(ReferenceWriter.OBJECT, Path.of(args[0]))) {
      BpfMap map = pinned.map(TracesContextMap.NAME);
      Runtime.getRuntime().addShutdownHook(new Thread(StaleEntriesWriter::outliveTheOtherWriter));
      System.out.println("ready");
      System.out.flush();
      Map<String, byte[]> seen = new HashMap<>();
      while (true) {
        Map<String, byte[]> now = new HashMap<>();
        for (byte[] key : map.keys()) {
          map.lookup(key).ifPresent(v -> now.put(HexFormat.of().formatHex(key), v));
        }
        for (Map.Entry<String, byte[]> e : seen.entrySet()) {
          if (!now.containsKey(e.getKey())) {
            map.update(HexFormat.of().parseHex(e.getKey()), e.getValue());
            now.put(e.getKey(), e.getValue());
          }
        }
        seen = now;
        Thread.sleep(2);
      }
    }
  }

  /**
   * Stopped together with the writer beside it (the suite signals the whole process group), it
   * keeps putting entries back until that writer has exited, and a little longer: so what the
   * writer deletes on its way out comes back, every time, whichever process the signal reaches
   * first.
   */
  private static void outliveTheOtherWriter() {
    ProcessHandle self = ProcessHandle.current();
    self.parent().stream().flatMap(ProcessHandle::children).filter(p -> p.pid() != self.pid()).forEach(p -> {
      try {
        p.onExit().get(30, TimeUnit.SECONDS);
      } catch (InterruptedException | ExecutionException | TimeoutException e) {
        // it stops without waiting for more
      }
    });
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
