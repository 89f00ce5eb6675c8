package dev.braid.profiler;

import java.util.List;

/**
 * A symbolized program counter.
 *
 * @param address the virtual address in the sampled process (or the kernel)
 * @param mapping what the address lies in
 * @param lines the source positions at this address, innermost first: more than one when
 *     functions were inlined into the last one; empty when the address could not be symbolized
 * @param kind what produced the code at this address
 */
public record Location(long address, Mapping mapping, List<Line> lines, Kind kind) {
  public Location {
    lines = List.copyOf(lines);
  }

  /** The kind of a frame, as OpenTelemetry's {@code profile.frame.type} names it. */
  public enum Kind {
    /** Go code, symbolized from pclntab. */
    GO("go"),
    /** Machine code that is not Go's (C, cgo, the dynamic loader, or unknown). */
    NATIVE("native"),
    /** The kernel. */
    KERNEL("kernel");

    private final String frameType;

    Kind(String frameType) {
      this.frameType = frameType;
    }

    /** The value of {@code profile.frame.type}. */
    public String frameType() {
      return frameType;
    }
  }
}
