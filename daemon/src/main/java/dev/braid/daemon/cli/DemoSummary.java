package dev.braid.daemon.cli;

import dev.braid.correlator.Batch;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProfiledSample;
import dev.braid.profiler.Line;
import dev.braid.profiler.Location;
import java.io.PrintStream;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/** Collects the demo's batches and prints what a user wants to see first. Not thread-safe. */
final class DemoSummary implements Consumer<Batch> {
  private final Map<String, Integer> spansByRoute = new TreeMap<>();
  private final Map<String, Map<String, Integer>> leafByRoute = new TreeMap<>();
  private int spans;
  private int links;
  private int samples;
  private int samplesInSpans;

  @Override
  public synchronized void accept(Batch batch) {
    for (CompletedSpan s : batch.spans()) {
      spans++;
      links += s.links().size();
      spansByRoute.merge(s.name(), 1, Integer::sum);
    }
    for (ProfiledSample s : batch.samples()) {
      samples++;
      if (s.context().isPresent()) {
        samplesInSpans++;
      }
      String route = s.span().map(CompletedSpan::name).orElse(s.context().isPresent() ? "(unknown span)" : "(no span)");
      leafByRoute.computeIfAbsent(route, r -> new HashMap<>()).merge(leafFunction(s.stack()), 1, Integer::sum);
    }
  }

  /**
   * The function the CPU was in: of the first symbolized location, the function the code belongs
   * to (its last line), with the calls inlined into it folded in.
   */
  static String leafFunction(List<Location> stack) {
    for (Location l : stack) {
      if (!l.lines().isEmpty()) {
        Line line = l.lines().getLast();
        return line.function();
      }
    }
    return "(unknown)";
  }

  synchronized int spans() {
    return spans;
  }

  synchronized void print(PrintStream out, int topN) {
    out.printf("spans:   %d%n", spans);
    spansByRoute.forEach((route, n) -> out.printf("  %-28s %6d%n", route, n));
    out.printf("links:   %d channel hand-offs between requests, each a link on both spans%n", links / 2);
    out.printf(
        "samples: %d, %s inside spans%n",
        samples, samples == 0 ? "none" : String.format(Locale.ROOT, "%.1f%%", 100.0 * samplesInSpans / samples));
    out.println("top functions (share of each route's CPU samples; inlined calls counted in their caller):");
    leafByRoute.forEach(
        (route, fns) -> {
          int total = fns.values().stream().mapToInt(Integer::intValue).sum();
          out.printf("  %s  (%d samples)%n", route, total);
          fns.entrySet().stream()
              .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
              .limit(topN)
              .forEach(e -> out.printf(Locale.ROOT, "    %5.1f%%  %s%n", 100.0 * e.getValue() / total, e.getKey()));
        });
  }
}
