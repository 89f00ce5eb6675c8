package dev.braid.correlator.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TracesContextMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Makes any writer stale, for the suite to catch: next to it, this puts back every entry of
 * traces_ctx_v1 that disappears (a span that ended, a thread that exited), a few milliseconds
 * later, and never deletes one. Like a good writer, it stops at a pin of another layout.
 */
public final class StaleEntriesWriter {
  private StaleEntriesWriter() {}

  public static void main(String[] args) throws Exception {
    Path pin = TracesContextMap.pinPath(Path.of(args[0]));
    while (!Files.exists(pin)) {
      Thread.sleep(10);
    }
    Map<String, byte[]> seen = new HashMap<>();
    try (BpfMap map = BpfMap.openPinned(pin).orElseThrow()) {
      if (!TracesContextMap.differences(map.info()).isEmpty()) { // staleness is its only fault
        System.err.println("not traces_ctx_v1: " + TracesContextMap.differences(map.info()));
        System.exit(1);
      }
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
}
