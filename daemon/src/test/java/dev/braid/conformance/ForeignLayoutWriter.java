package dev.braid.conformance;

import dev.braid.bpf.BpfObject;
import dev.braid.bpf.TracesContextMap;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A writer with the wrong layout, for the suite to catch: it pins a traces_ctx_v1 whose value is
 * not 24 bytes (bpf's test object) under the pin root it is given, then waits to be stopped.
 */
public final class ForeignLayoutWriter {
  private ForeignLayoutWriter() {}

  public static void main(String[] args) throws Exception {
    Path pin = TracesContextMap.pinPath(Path.of(args[0]));
    try (BpfObject foreign = BpfObject.openResource("/bpf/test_foreign_pin.bpf.o")) {
      foreign.load();
      Files.createDirectories(pin.getParent());
      Files.setAttribute(pin.getParent(), "unix:mode", TracesContextMap.DIRECTORY_MODE); // only the layout is wrong
      if (!Files.exists(pin)) { // a pin of its own layout it would reuse, so it never stops for 2.2
        foreign.map(TracesContextMap.NAME).pin(pin);
      }
      System.out.println("ready");
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
