package dev.braid.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A writer the suite starts: {@code sh -c COMMAND}, where {@code {exe}}, {@code {pin-path}},
 * {@code {otlp-endpoint}} and {@code {otlp-grpc-endpoint}} stand for the workload's executable,
 * the pin root under test and the suite's OTLP/HTTP and OTLP/gRPC receivers (also in the
 * environment as {@code BRAID_CONFORMANCE_EXE}, {@code BRAID_CONFORMANCE_PIN_PATH}, {@code
 * OTEL_EXPORTER_OTLP_ENDPOINT}, with {@code OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf}, and {@code
 * BRAID_CONFORMANCE_OTLP_GRPC_ENDPOINT}). Its output goes to a file, shown when it fails. Stopped
 * with SIGTERM on close.
 */
public final class WriterProcess implements Writer {
  private static final long STOP_SECONDS = 30;
  private final Process process;
  private final Path output;

  private WriterProcess(Process process, Path output) {
    this.process = process;
    this.output = output;
  }

  /** Exporting to {@code receiver}. */
  public static WriterProcess start(String command, Path exe, Path pinRoot, OtlpReceiver receiver) {
    return start(command, exe, pinRoot, receiver.endpoint(), receiver.grpcEndpoint());
  }

  public static WriterProcess start(String command, Path exe, Path pinRoot, String otlpEndpoint, String otlpGrpcEndpoint) {
    String expanded = command.replace("{exe}", exe.toString()).replace("{pin-path}", pinRoot.toString()).replace("{otlp-endpoint}", otlpEndpoint)
        .replace("{otlp-grpc-endpoint}", otlpGrpcEndpoint);
    try {
      Path output = Files.createTempFile("braid-conformance-writer", ".log");
      // A session of its own: what the writer starts stays in its process group, even if the shell exits first.
      ProcessBuilder pb = new ProcessBuilder(List.of("setsid", "sh", "-c", expanded)).redirectErrorStream(true).redirectOutput(output.toFile());
      pb.environment().put("BRAID_CONFORMANCE_EXE", exe.toString());
      pb.environment().put("BRAID_CONFORMANCE_PIN_PATH", pinRoot.toString());
      pb.environment().put("OTEL_EXPORTER_OTLP_ENDPOINT", otlpEndpoint);
      pb.environment().put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
      pb.environment().put("BRAID_CONFORMANCE_OTLP_GRPC_ENDPOINT", otlpGrpcEndpoint);
      return new WriterProcess(pb.start(), output);
    } catch (IOException e) {
      throw new UncheckedIOException("starting the writer: " + expanded, e);
    }
  }

  @Override
  public boolean startedBySuite() {
    return true;
  }

  @Override
  public boolean alive() {
    return process.isAlive();
  }

  /** The last lines the writer printed. */
  @Override
  public String tail() {
    try {
      List<String> lines = Files.readAllLines(output);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(its output cannot be read: " + e.getMessage() + ")";
    }
  }

  /**
   * Stops it: SIGTERM to the shell and every process of its group, then waits for all of them (a
   * writer cleans up on its way out). True when they stopped in time; else they are killed.
   */
  public boolean stop() throws InterruptedException {
    Set<ProcessHandle> tree = new LinkedHashSet<>(groupMembers());
    tree.addAll(process.descendants().toList());
    tree.add(process.toHandle());
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
    boolean stopped = true;
    for (ProcessHandle p : tree) {
      try {
        p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException | TimeoutException e) {
        stopped = false;
        p.destroyForcibly();
      }
    }
    return stopped;
  }

  /** The live processes of the writer's process group (setsid made the shell its leader). */
  private List<ProcessHandle> groupMembers() {
    String group = Long.toString(process.pid());
    return ProcessHandle.allProcesses().filter(p -> group.equals(processGroup(p.pid()))).toList();
  }

  /** The process group in /proc/PID/stat (after "pid (comm) state ppid"), or "" once it has gone. */
  static String processGroup(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return after.length > 2 ? after[2] : "";
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive() || !groupMembers().isEmpty()) {
      stop();
    }
    try {
      Files.deleteIfExists(output);
    } catch (IOException e) {
      // a temporary file: nothing to do
    }
  }
}
