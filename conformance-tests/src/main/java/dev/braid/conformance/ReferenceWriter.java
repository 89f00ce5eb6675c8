package dev.braid.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A writer for judging readers: it runs examples/pinned, whose workers 1 to 4 burn CPU in
 * {@code main.work1} to {@code main.work4}, each on a thread of its own, and gives the threads of
 * workers 1 to 3 fixed, known contexts ({@link #contextOf}) and worker 4's none. A profiler
 * reading traces_ctx_v1 must stamp every sample in {@code main.workN} with worker N's context, and
 * samples in {@code main.work4} with none. Close deletes its entries and stops the workload.
 */
public final class ReferenceWriter implements AutoCloseable {
  static final String OBJECT = "/bpf/ctx_map.bpf.o";
  /** Workers with a context; the last worker has none. */
  static final int WORKERS = 4;
  private static final Pattern WORKER = Pattern.compile("worker (\\d+) tid (\\d+)");

  /** One worker of the workload: its thread, its function, the context its thread shows. */
  public record Worker(int number, int tid, String function, Optional<TraceContext> context) {}

  private final Process workload;
  private final BpfObject object;
  private final BpfMap map;
  private final List<Worker> workers;

  private ReferenceWriter(Process workload, BpfObject object, List<Worker> workers) {
    this.workload = workload;
    this.object = object;
    this.map = object.map(TracesContextMap.NAME);
    this.workers = workers;
  }

  /** Worker n's context: trace id and span id that spell the worker's number. */
  public static Optional<TraceContext> contextOf(int worker) {
    return worker < WORKERS ? Optional.of(new TraceContext(String.format("4e5e4e5e%024x", worker), String.format("5a5a%012x", worker))) : Optional.empty();
  }

  /** Starts the workload and writes its workers' contexts into the pin under {@code pinRoot}. */
  public static ReferenceWriter start(Path pinnedExecutable, Path pinRoot) throws IOException {
    Process p = new ProcessBuilder(pinnedExecutable.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      List<Worker> workers = new ArrayList<>();
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      for (String line = out.readLine(); line != null && !line.equals("ready"); line = out.readLine()) {
        Matcher m = WORKER.matcher(line);
        if (m.matches()) {
          int n = Integer.parseInt(m.group(1));
          workers.add(new Worker(n, Integer.parseInt(m.group(2)), "main.work" + n, contextOf(n)));
        }
      }
      if (workers.size() != WORKERS) {
        throw new IOException(pinnedExecutable + " started " + workers.size() + " workers, not " + WORKERS + " (exit: " + (p.isAlive() ? "running" : p.exitValue()) + ")");
      }
      workers.sort(java.util.Comparator.comparingInt(Worker::number));
      ReferenceWriter writer = new ReferenceWriter(p, TracesContextMap.loadShared(OBJECT, pinRoot), workers);
      try {
        writer.write();
      } catch (RuntimeException e) {
        writer.close(); // deletes what it wrote, and stops the workload
        throw e;
      }
      return writer;
    } catch (IOException | RuntimeException e) {
      p.destroyForcibly();
      throw e;
    }
  }

  private void write() {
    for (Worker w : workers) {
      w.context().ifPresent(c -> map.update(TracesContextMap.key(pid(), w.tid()), c.toBytes()));
    }
  }

  public int pid() {
    return (int) workload.pid();
  }

  public List<Worker> workers() {
    return workers;
  }

  /** The expectations as JSON: the process, and per worker its thread, function and context. */
  public String json() {
    StringBuilder b = new StringBuilder("{\"pid\":").append(pid()).append(",\"workers\":[");
    for (Worker w : workers) {
      b.append(w.number() > 1 ? "," : "").append("{\"worker\":").append(w.number()).append(",\"tid\":").append(w.tid())
          .append(",\"function\":\"").append(w.function()).append('"');
      w.context().ifPresent(c -> b.append(",\"trace_id\":\"").append(c.traceId()).append("\",\"span_id\":\"").append(c.spanId()).append('"'));
      b.append('}');
    }
    return b.append("]}").toString();
  }

  @Override
  public void close() {
    try {
      for (Worker w : workers) {
        map.delete(TracesContextMap.key(pid(), w.tid()));
      }
    } finally {
      object.close();
      workload.destroyForcibly();
    }
  }
}
