package dev.braid.correlator.report;

import dev.braid.correlator.otlp.JsonOut;
import dev.braid.correlator.report.RunFiles.Frame;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Stacks merged into a tree of frames, each with its inclusive sample count: a flame graph's data. */
final class FlameTree {
  private final String name;
  private final String kind;
  private final boolean inlined;
  private long value;
  private final Map<Frame, FlameTree> children = new LinkedHashMap<>();

  FlameTree(String name) {
    this(name, "root", false);
  }

  private FlameTree(String name, String kind, boolean inlined) {
    this.name = name;
    this.kind = kind;
    this.inlined = inlined;
  }

  /** Adds a stack (root first) seen {@code count} times. */
  void add(List<Frame> frames, long count) {
    value += count;
    FlameTree node = this;
    for (Frame f : frames) {
      node = node.children.computeIfAbsent(f, k -> new FlameTree(k.name(), k.kind(), k.inlined()));
      node.value += count;
    }
  }

  /** Adds a stack under a child that is no frame, such as "outside any span". */
  void add(String group, List<Frame> frames, long count) {
    value += count;
    children.computeIfAbsent(new Frame(group, "group", false), k -> new FlameTree(group, "group", false)).add(frames, count);
  }

  long value() {
    return value;
  }

  /** d3-flame-graph's format: name, value (inclusive), children; with the frame's kind and whether it was inlined. */
  void write(JsonOut json) {
    json.raw("{\"name\":").string(name).raw(",\"value\":").number(value).raw(",\"kind\":").string(kind);
    if (inlined) {
      json.raw(",\"inlined\":true");
    }
    if (!children.isEmpty()) {
      json.raw(",\"children\":[");
      boolean first = true;
      for (FlameTree c : children.values()) {
        if (!first) {
          json.raw(',');
        }
        first = false;
        c.write(json);
      }
      json.raw(']');
    }
    json.raw('}');
  }
}
