package dev.braid.daemon.groundtruth;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TracesContextMap;
import dev.braid.daemon.cli.BraidCli;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code braid run} as users run it (a JVM of its own, with the launcher's options), its log and
 * its metrics, and what it holds: open files, probes, RSS, heap after a full GC, CPU time.
 */
final class BraidProcess implements AutoCloseable {
  private static final Pattern TRACING = Pattern.compile("msg=\"tracing (\\S+) pid (\\d+) ");
  private static final Pattern EXITED = Pattern.compile("msg=\"pid (\\d+) exited\"");
  /** The daemon's JVM options, as every launcher passes them (Maven runs the tests in daemon/). */
  private static final Path JVM_OPTIONS = Path.of("..", "dist", "jvm.options").toAbsolutePath().normalize();

  /** What braid holds at one moment: its open files, probes, binaries, processes, RSS and heap after a full GC. */
  record Footprint(long files, long probes, long binaries, long processes, long rssBytes, long heapBytes) {}

  private final Process process;
  private final int metricsPort;
  private final Path logFile;
  private final List<String> warnings = new CopyOnWriteArrayList<>();
  private final Map<Integer, String> current = new ConcurrentHashMap<>();
  private final Map<Integer, String> everTraced = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private BpfMap pinned;

  private BraidProcess(Process process, int metricsPort, Path logFile) {
    this.process = process;
    this.metricsPort = metricsPort;
    this.logFile = logFile;
  }

  /**
   * Starts {@code braid run} writing to {@code out} (its log beside it, braid.log), pinning under
   * {@code pins}, with {@code args} after the defaults (every Go process of the host, a flush every
   * second, 49 Hz); returns once it printed ready.
   */
  static BraidProcess run(Path out, Path pins, List<String> args) throws Exception {
    int metricsPort = freePort();
    if (!Files.isRegularFile(JVM_OPTIONS)) {
      throw new AssertionError("no " + JVM_OPTIONS + ": the tests run in the daemon module of a braid checkout");
    }
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "@" + JVM_OPTIONS,
        "-cp", System.getProperty("java.class.path"), BraidCli.class.getName(),
        "run", "--out", out.toString(), "--pin-path", pins.toString(), "--metrics-addr", "127.0.0.1:" + metricsPort,
        "--flush-interval", "1s", "--sample-hz", "49"));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).start();
    BraidProcess braid = new BraidProcess(p, metricsPort, out.resolveSibling("braid.log"));
    Thread.ofPlatform().daemon().start(braid::readLog);
    try (BufferedReader stdout = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line = stdout.readLine();
      if (!"ready".equals(line)) {
        p.destroyForcibly();
        throw new AssertionError("braid run did not start: " + line + "; see " + braid.logFile);
      }
    }
    braid.pinned = TracesContextMap.openPinned(pins).orElseThrow();
    return braid;
  }

  private void readLog() {
    try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        var copy = Files.newBufferedWriter(logFile)) {
      for (String line; (line = err.readLine()) != null; ) {
        copy.write(line);
        copy.newLine();
        copy.flush();
        Matcher m = TRACING.matcher(line);
        if (m.find()) {
          current.put(Integer.parseInt(m.group(2)), m.group(1));
          everTraced.put(Integer.parseInt(m.group(2)), m.group(1));
        }
        Matcher x = EXITED.matcher(line);
        if (x.find()) {
          current.remove(Integer.parseInt(x.group(1)));
        }
        if (line.contains("level=WARN") || line.contains("level=ERROR")) {
          warnings.add(line);
        }
      }
    } catch (IOException e) {
      // braid ended
    }
  }

  /** The service braid traces pid as now, by its log ("tracing SERVICE pid N", "pid N exited"). */
  Optional<String> service(int pid) {
    return Optional.ofNullable(current.get(pid));
  }

  /** Every pid braid has traced. */
  Set<Integer> tracedPids() {
    return everTraced.keySet();
  }

  /** pid's threads' entries in the pinned traces_ctx_v1. */
  int entriesOf(int pid) {
    return (int) pinned.keys().stream().filter(k -> TracesContextMap.keyValue(k) >>> 32 == pid).count();
  }

  /** The pinned traces_ctx_v1's entries now, by key (tgid << 32 | tid). */
  Map<Long, dev.braid.bpf.TraceContext> entries() {
    Map<Long, dev.braid.bpf.TraceContext> found = new java.util.HashMap<>();
    for (byte[] key : pinned.keys()) {
      pinned.lookup(key).ifPresent(v -> found.put(TracesContextMap.keyValue(key), dev.braid.bpf.TraceContext.fromBytes(v)));
    }
    return found;
  }

  /** Lines logged at WARN that contain {@code text}. */
  long warningsAbout(String text) {
    return warnings.stream().filter(l -> l.contains("level=WARN") && l.contains(text)).count();
  }

  List<String> errors() {
    return warnings.stream().filter(l -> l.contains("level=ERROR")).toList();
  }

  /** The sum of a metric's series (those whose labels contain every one of {@code labels}), as the Prometheus endpoint shows it now. */
  long metric(String name, String... labels) {
    return sum(metricsText(), name, labels);
  }

  private static long sum(String scraped, String name, String... labels) {
    return scraped.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** What braid holds now; its heap is measured after a full collection (jcmd GC.run). */
  Footprint footprint() throws Exception {
    Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(process.pid()), "GC.run")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    gc.waitFor(30, TimeUnit.SECONDS);
    long rss = Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status")).stream().filter(l -> l.startsWith("VmRSS:"))
        .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")) * 1024).findFirst().orElseThrow();
    long files;
    try (var fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
      files = fds.count();
    }
    String scraped = metricsText(); // one scrape for all four
    return new Footprint(files, sum(scraped, "braid_probes_attached"), sum(scraped, "braid_binaries_probed"), sum(scraped, "braid_processes"), rss,
        sum(scraped, "jvm_memory_used_bytes", "area=\"heap\""));
  }

  long pid() {
    return process.pid();
  }

  /** CPU time braid has used so far (user and system), in seconds. */
  double cpuSeconds() throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime, in USER_HZ (100) ticks
  }

  private String metricsText() {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** SIGTERM: braid writes what it has, removes its entries and detaches (the kernel takes ~0.1 s a probe). */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("braid run did not stop within 120 s of SIGTERM");
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (pinned != null) {
      pinned.close();
    }
    if (process.isAlive()) {
      stop();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
