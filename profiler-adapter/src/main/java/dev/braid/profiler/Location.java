package dev.braid.profiler;

import java.util.List;

/**
 * A symbolized program counter.
 *
 * @param address the virtual address in the sampled process (or the kernel)
 * @param mapping what the address lies in
 * @param lines the source positions at this address, innermost first: more than one when
 *     functions were inlined into the last one; empty when the address could not be symbolized
 */
public record Location(long address, Mapping mapping, List<Line> lines) {
  public Location {
    lines = List.copyOf(lines);
  }
}
