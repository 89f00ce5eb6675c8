package dev.braid.correlator;

import dev.braid.tracer.GoField;
import dev.braid.profiler.GoroutineLocator;
import dev.braid.tracer.GoOffsets;
import dev.braid.tracer.GoProgram;

/** Where the goroutine a thread runs is found in a Go program's memory, from its binary alone. */
public final class GoroutineLocators {
  private GoroutineLocators() {}

  /** For a program whose goroutine TLS slot is known ({@link GoProgram#goroutineTls()}). */
  public static GoroutineLocator of(GoProgram program) {
    GoOffsets o = program.offsets();
    int tls = program.goroutineTls().orElseThrow(() -> new IllegalArgumentException(program.path() + ": the goroutine's TLS slot is unknown"));
    return GoroutineLocator.of(tls, o.offset(GoField.G_M), o.offset(GoField.M_CURG), o.offset(GoField.G_GOID));
  }
}
