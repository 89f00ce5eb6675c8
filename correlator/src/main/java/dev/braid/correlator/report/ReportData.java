package dev.braid.correlator.report;

import dev.braid.correlator.otlp.JsonOut;
import dev.braid.correlator.report.RunFiles.Frame;
import dev.braid.correlator.report.RunFiles.LinkRow;
import dev.braid.correlator.report.RunFiles.SampleRow;
import dev.braid.correlator.report.RunFiles.SpanRow;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * What report.html shows, computed from a run's files and written as one JSON object: per route
 * its requests, latency percentiles and CPU per request; each route's slowest traces (at most
 * {@link #TRACES_PER_ROUTE}, the cut counted) with their spans, links and per-span flame graphs
 * (the span's own samples, and with its descendants'); each process's flame graph, split into the
 * samples inside spans and outside any.
 *
 * <p>Memory stays bounded however long the run: the files are streamed (samples once, spans
 * twice); what is kept is the samples' stacks (interned), the spans of traces that have samples
 * or are among the slowest, and a histogram and the slowest requests per route.
 */
final class ReportData {
  static final int TRACES_PER_ROUTE = 100;
  private static final int SPAN_KIND_SERVER = 2;

  // From the samples.
  private long samples;
  private long samplesInSpans;
  private long periodNanos = 1_000_000_000L / 99;
  private final Map<String, List<SampleRow>> samplesOf = new HashMap<>();
  private final Set<String> sampledTraces = new HashSet<>();
  private final Map<List<Frame>, List<Frame>> stacks = new HashMap<>();
  private final Map<ProcessKey, FlameTree> processes = new LinkedHashMap<>();
  private final Map<ProcessKey, Long> outside = new HashMap<>();

  // From the spans.
  private long spanCount;
  private final Map<RouteKey, Route> routes = new LinkedHashMap<>();
  private final Map<String, List<SpanRow>> heldTraces = new HashMap<>();
  /** The traces the page lists: each route's slowest, and those they link to. */
  private final Set<String> listed = new LinkedHashSet<>();
  private final Map<String, List<String>> childrenOf = new HashMap<>();
  private final Map<String, Long> totals = new HashMap<>();

  private record ProcessKey(String service, long pid) {}

  private record RouteKey(String service, String route) {}

  private record Slow(long duration, String traceId) {}

  private static final class Route {
    final Histogram latency = new Histogram(3);
    long requests;
    long samples;
    final PriorityQueue<Slow> slowest = new PriorityQueue<>(Comparator.comparingLong(Slow::duration));

    void add(SpanRow s) {
      long d = Math.max(0, s.end() - s.start());
      requests++;
      latency.recordValue(d);
      slowest.add(new Slow(d, s.traceId()));
      if (slowest.size() > TRACES_PER_ROUTE) {
        slowest.poll();
      }
    }
  }

  /**
   * Reads the run: the samples, then the spans (route figures, the slowest requests), then the
   * spans of the slowest traces, then those of the traces their links lead to. {@code progress}
   * hears of each pass.
   */
  static ReportData read(RunFiles files, Consumer<String> progress) throws IOException {
    ReportData d = new ReportData();
    progress.accept("the samples");
    files.samples(d::sample);
    progress.accept("the spans");
    files.spans(d::firstPass);
    d.sampledTracesRead();
    d.routes.values().forEach(r -> r.slowest.forEach(s -> d.listed.add(s.traceId())));
    progress.accept("the slowest traces' spans");
    d.holdListed(files);
    // The traces that the listed ones link to (channel hand-offs): listed too, so that a link leads somewhere.
    for (String trace : List.copyOf(d.listed)) {
      for (SpanRow s : d.heldTraces.getOrDefault(trace, List.of())) {
        s.links().forEach(l -> d.listed.add(l.traceId()));
      }
    }
    if (!d.heldTraces.keySet().containsAll(d.listed)) {
      progress.accept("the spans of the traces they link to");
      d.holdListed(files);
    }
    d.linkParents();
    return d;
  }

  private void holdListed(RunFiles files) throws IOException {
    Set<String> held = Set.copyOf(heldTraces.keySet());
    files.spans(s -> {
      if (listed.contains(s.traceId()) && !held.contains(s.traceId())) {
        hold(s);
      }
    });
  }

  private static String key(String trace, String span) {
    return trace + "/" + span;
  }

  private void sample(SampleRow s) {
    SampleRow row = new SampleRow(s.service(), s.pid(), s.traceId(), s.spanId(), stacks.computeIfAbsent(s.frames(), f -> f), s.count(), s.periodNanos());
    samples += row.count();
    periodNanos = row.periodNanos();
    ProcessKey p = new ProcessKey(row.service(), row.pid());
    boolean inSpan = !row.spanId().isEmpty();
    processes.computeIfAbsent(p, k -> new FlameTree(k.service() + " (pid " + k.pid() + ")")).add(inSpan ? "inside spans" : "outside any span", row.frames(), row.count());
    if (inSpan) {
      samplesInSpans += row.count();
      samplesOf.computeIfAbsent(key(row.traceId(), row.spanId()), k -> new ArrayList<>()).add(row);
      sampledTraces.add(row.traceId());
    } else {
      outside.merge(p, row.count(), Long::sum);
    }
  }

  private void firstPass(SpanRow s) {
    spanCount++;
    if (s.kind() == SPAN_KIND_SERVER) {
      routes.computeIfAbsent(new RouteKey(s.service(), s.route()), k -> new Route()).add(s);
    }
    if (sampledTraces.contains(s.traceId())) {
      hold(s);
    }
  }

  private void hold(SpanRow s) {
    heldTraces.computeIfAbsent(s.traceId(), k -> new ArrayList<>()).add(s);
  }

  /** The CPU of each route: its requests' spans' samples and their descendants'. */
  private void sampledTracesRead() {
    linkParents();
    for (List<SpanRow> trace : heldTraces.values()) {
      for (SpanRow s : trace) {
        if (s.kind() == SPAN_KIND_SERVER) {
          routes.get(new RouteKey(s.service(), s.route())).samples += totalSamples(key(s.traceId(), s.spanId()));
        }
      }
    }
  }

  private void linkParents() {
    childrenOf.clear();
    totals.clear();
    for (List<SpanRow> trace : heldTraces.values()) {
      Set<String> ids = new HashSet<>();
      trace.forEach(s -> ids.add(s.spanId()));
      for (SpanRow s : trace) {
        if (!s.parentSpanId().isEmpty() && ids.contains(s.parentSpanId())) {
          childrenOf.computeIfAbsent(key(s.traceId(), s.parentSpanId()), k -> new ArrayList<>()).add(key(s.traceId(), s.spanId()));
        }
      }
    }
  }

  long samples() {
    return samples;
  }

  long spans() {
    return spanCount;
  }

  private long selfSamples(String key) {
    return samplesOf.getOrDefault(key, List.of()).stream().mapToLong(SampleRow::count).sum();
  }

  /** The span's samples and its descendants'. */
  private long totalSamples(String key) {
    Long known = totals.get(key);
    if (known != null) {
      return known;
    }
    long total = selfSamples(key);
    for (String child : childrenOf.getOrDefault(key, List.of())) {
      total += totalSamples(child);
    }
    totals.put(key, total);
    return total;
  }

  private void collect(String key, List<SampleRow> into) {
    into.addAll(samplesOf.getOrDefault(key, List.of()));
    for (String child : childrenOf.getOrDefault(key, List.of())) {
      collect(child, into);
    }
  }

  void write(JsonOut json) {
    json.raw("{\"periodMs\":").raw(decimal(periodNanos / 1e6));
    json.raw(",\"spanCount\":").number(spanCount).raw(",\"sampleCount\":").number(samples).raw(",\"samplesInSpans\":").number(samplesInSpans);
    json.raw(",\"requests\":").number(routes.values().stream().mapToLong(r -> r.requests).sum());
    routes(json);
    traces(json);
    processes(json);
    json.raw('}');
  }

  private void routes(JsonOut json) {
    json.raw(",\"routes\":[");
    boolean first = true;
    for (var e : routes.entrySet()) {
      Route r = e.getValue();
      json.raw(first ? "" : ",").raw("{\"service\":").string(e.getKey().service()).raw(",\"route\":").string(e.getKey().route());
      json.raw(",\"requests\":").number(r.requests);
      json.raw(",\"p50\":").raw(millis(r.latency.getValueAtPercentile(50))).raw(",\"p95\":").raw(millis(r.latency.getValueAtPercentile(95)));
      json.raw(",\"p99\":").raw(millis(r.latency.getValueAtPercentile(99)));
      json.raw(",\"samples\":").number(r.samples).raw(",\"cpuMsPerRequest\":").raw(decimal(r.samples * periodNanos / 1e6 / r.requests)).raw('}');
      first = false;
    }
    json.raw(']');
  }

  private void traces(JsonOut json) {
    // (a trace not held: a file rewritten between the passes lost it)
    List<List<SpanRow>> slowestFirst = listed.stream().map(heldTraces::get).filter(t -> t != null)
        .sorted(Comparator.comparingLong(ReportData::duration).reversed()).toList();
    json.raw(",\"tracesPerRoute\":").number(TRACES_PER_ROUTE).raw(",\"traces\":[");
    boolean first = true;
    for (List<SpanRow> trace : slowestFirst) {
      json.raw(first ? "" : ",");
      first = false;
      trace(json, trace);
    }
    json.raw(']');
  }

  /** The span a trace is listed by: its first server span, else its first. */
  private static SpanRow entry(List<SpanRow> trace) {
    SpanRow first = trace.stream().min(Comparator.comparingLong(SpanRow::start)).orElseThrow();
    return trace.stream().filter(s -> s.kind() == SPAN_KIND_SERVER).min(Comparator.comparingLong(SpanRow::start)).orElse(first);
  }

  private static long duration(List<SpanRow> trace) {
    return trace.stream().mapToLong(SpanRow::end).max().orElse(0) - trace.stream().mapToLong(SpanRow::start).min().orElse(0);
  }

  private void trace(JsonOut json, List<SpanRow> trace) {
    List<SpanRow> byStart = trace.stream().sorted(Comparator.comparingLong(SpanRow::start)).toList();
    long start = byStart.getFirst().start();
    SpanRow entry = entry(trace);
    json.raw("{\"id\":").string(entry.traceId()).raw(",\"service\":").string(entry.service()).raw(",\"route\":").string(entry.route());
    json.raw(",\"ms\":").raw(millis(duration(trace))).raw(",\"spans\":[");
    boolean first = true;
    for (SpanRow s : byStart) {
      String key = key(s.traceId(), s.spanId());
      json.raw(first ? "" : ",").raw("{\"id\":").string(s.spanId()).raw(",\"parent\":").string(s.parentSpanId());
      json.raw(",\"name\":").string(s.name()).raw(",\"service\":").string(s.service()).raw(",\"kind\":").number(s.kind());
      json.raw(",\"at\":").raw(millis(s.start() - start)).raw(",\"ms\":").raw(millis(s.end() - s.start()));
      json.raw(",\"self\":").number(selfSamples(key)).raw(",\"total\":").number(totalSamples(key));
      json.raw(",\"links\":[");
      for (int i = 0; i < s.links().size(); i++) {
        LinkRow l = s.links().get(i);
        SpanRow other = find(l);
        json.raw(i == 0 ? "" : ",").raw("{\"trace\":").string(l.traceId()).raw(",\"span\":").string(l.spanId()).raw(",\"type\":").string(l.type());
        json.raw(",\"name\":").string(other == null ? "" : other.name() + " (" + other.service() + ")").raw('}');
      }
      json.raw(']');
      if (totalSamples(key) > 0) {
        FlameTree self = new FlameTree(s.name());
        samplesOf.getOrDefault(key, List.of()).forEach(r -> self.add(r.frames(), r.count()));
        List<SampleRow> all = new ArrayList<>();
        collect(key, all);
        FlameTree total = new FlameTree(s.name());
        all.forEach(r -> total.add(r.frames(), r.count()));
        json.raw(",\"flameSelf\":");
        self.write(json);
        json.raw(",\"flameTotal\":");
        total.write(json);
      }
      json.raw('}');
      first = false;
    }
    json.raw("]}");
  }

  /** The other end of a link, when the report holds its trace. */
  private SpanRow find(LinkRow l) {
    for (SpanRow s : heldTraces.getOrDefault(l.traceId(), List.of())) {
      if (s.spanId().equals(l.spanId())) {
        return s;
      }
    }
    return null;
  }

  private void processes(JsonOut json) {
    json.raw(",\"processes\":[");
    boolean first = true;
    for (var e : processes.entrySet()) {
      json.raw(first ? "" : ",").raw("{\"service\":").string(e.getKey().service()).raw(",\"pid\":").number(e.getKey().pid());
      json.raw(",\"samples\":").number(e.getValue().value()).raw(",\"outside\":").number(outside.getOrDefault(e.getKey(), 0L)).raw(",\"flame\":");
      e.getValue().write(json);
      json.raw('}');
      first = false;
    }
    json.raw(']');
  }

  private static String millis(long nanos) {
    return decimal(nanos / 1e6);
  }

  private static String decimal(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }
}
