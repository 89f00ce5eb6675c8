package dev.braid.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * braid's doctor: checks that this machine can run braid, and says how to fix what it lacks.
 *
 * <p>This file is self-contained and sticks to Java 17 so that {@code ./braid doctor} can run it
 * as a source file ({@code java SystemCheck.java}) before anything is built, even with an older
 * JDK. The daemon runs {@link #runtimeChecks} before it starts.
 */
public final class SystemCheck {
  static final int MIN_KERNEL_MAJOR = 5;
  static final int MIN_KERNEL_MINOR = 15; // bpf_get_attach_cookie() in uprobes
  static final int MIN_GO_MINOR = 21;
  static final int JDK = 25;
  private static final int CAP_SYS_RESOURCE = 24;
  private static final int CAP_SYS_ADMIN = 21;
  private static final int CAP_PERFMON = 38;
  private static final int CAP_BPF = 39;
  private static final int CAP_SYS_PTRACE = 19;
  private static final int SECCOMP_FILTER = 2;

  private SystemCheck() {}

  /** One check's outcome; {@code fix} says what to do when it failed. */
  public record Check(String name, boolean ok, String detail, String fix) {
    public String render() {
      return render(ok ? "ok    " : "FAIL  ");
    }

    /** For what a peer needs, not braid: a failure is a warning. */
    public String renderForPeer() {
      return render(ok ? "ok    " : "warn  ");
    }

    private String render(String mark) {
      String line = mark + name + ": " + detail;
      return ok || fix.isEmpty() ? line : line + "\n      fix: " + fix;
    }
  }

  /** Everything {@code braid run} needs at run time. */
  public static List<Check> runtimeChecks(Path pinRoot) {
    List<Check> checks = new ArrayList<>();
    checks.add(kernel());
    checks.add(btf());
    checks.add(privileges());
    checks.add(otherProcesses());
    checks.add(bpffs(pinRoot));
    checks.add(uprobes());
    checks.add(libbpf());
    return checks;
  }

  /** Run time, plus what building braid and its examples needs. */
  public static List<Check> allChecks(Path pinRoot) {
    List<Check> checks = runtimeChecks(pinRoot);
    checks.add(tool("clang", List.of("clang", "--version"), "apt-get install clang llvm"));
    checks.add(tool("bpftool", List.of("bpftool", "version"), "apt-get install bpftool"));
    checks.add(jdk());
    checks.add(go());
    return checks;
  }

  /**
   * What the peers braid runs beside need and braid does not: opentelemetry-ebpf-profiler (as the
   * reader of braid's map) and OBI find tracepoints through tracefs and raise RLIMIT_MEMLOCK.
   */
  public static List<Check> peerChecks() {
    return List.of(tracefs(), memlock());
  }

  static Check tracefs() {
    Path tracing = Path.of("/sys/kernel/tracing");
    String type = fileSystemType(tracing);
    boolean ok = "tracefs".equals(type) && Files.isDirectory(tracing.resolve("events"));
    return new Check("tracefs", ok, ok ? tracing + " is mounted" : tracing + " is not a tracefs mount",
        "mount -t tracefs tracefs " + tracing + " (opentelemetry-ebpf-profiler reads tracepoint ids there; braid does not need it)");
  }

  static Check memlock() {
    if (has(effectiveCapabilities(selfStatus()), CAP_SYS_RESOURCE)) {
      return new Check("memlock", true, "RLIMIT_MEMLOCK can be raised (CAP_SYS_RESOURCE)", "");
    }
    try {
      return memlock(Files.readString(Path.of("/proc/self/limits")));
    } catch (IOException e) {
      return memlock("");
    }
  }

  /**
   * From {@code /proc/PID/limits}: ok when the hard limit is unlimited, which a peer can raise its
   * soft one to (with CAP_SYS_RESOURCE it can raise the hard one too, and the check passes).
   */
  static Check memlock(String limits) {
    String limit = limits.lines().filter(l -> l.startsWith("Max locked memory")).findFirst().orElse("");
    String[] f = limit.substring(Math.min(limit.length(), "Max locked memory".length())).strip().split("\\s+");
    boolean ok = f.length >= 2 && "unlimited".equals(f[1]);
    return new Check("memlock", ok, f.length >= 2 ? "RLIMIT_MEMLOCK soft " + f[0] + ", hard " + f[1] + " bytes" : "RLIMIT_MEMLOCK unknown",
        "ulimit -l unlimited in the shell that starts a peer that raises it (opentelemetry-ebpf-profiler, OBI), LimitMEMLOCK=infinity in"
            + " its systemd unit, or --ulimit memlock=-1 for its container; braid's maps are charged to its cgroup instead");
  }

  /** The failed checks' text, or empty when all passed. */
  public static Optional<String> failures(List<Check> checks) {
    StringBuilder sb = new StringBuilder();
    for (Check c : checks) {
      if (!c.ok()) {
        sb.append(c.render()).append('\n');
      }
    }
    return sb.length() == 0 ? Optional.empty() : Optional.of(sb.toString().stripTrailing());
  }

  static Check kernel() {
    String release = System.getProperty("os.version", "");
    Matcher m = Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
    boolean ok =
        m.find()
            && (Integer.parseInt(m.group(1)) > MIN_KERNEL_MAJOR
                || (Integer.parseInt(m.group(1)) == MIN_KERNEL_MAJOR && Integer.parseInt(m.group(2)) >= MIN_KERNEL_MINOR));
    return new Check(
        "kernel",
        ok,
        "Linux " + release + (ok ? "" : " is older than " + MIN_KERNEL_MAJOR + "." + MIN_KERNEL_MINOR),
        "run on Linux " + MIN_KERNEL_MAJOR + "." + MIN_KERNEL_MINOR + " or newer");
  }

  static Check btf() {
    Path vmlinux = Path.of("/sys/kernel/btf/vmlinux");
    boolean ok = Files.isReadable(vmlinux);
    return new Check(
        "BTF",
        ok,
        ok ? vmlinux + " is readable" : vmlinux + " is missing",
        "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2021)");
  }

  /**
   * CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON where no seccomp filter is in the way: the default
   * profiles of Podman, Docker and containerd allow bpf() and perf_event_open() only with
   * CAP_SYS_ADMIN, and answer EPERM otherwise.
   */
  public static Check privileges() {
    String status = selfStatus();
    return privileges(effectiveCapabilities(status), seccompMode(status));
  }

  static Check privileges(long caps, int seccomp) {
    boolean admin = has(caps, CAP_SYS_ADMIN);
    boolean split = has(caps, CAP_BPF) && has(caps, CAP_PERFMON);
    boolean ok = admin || (split && seccomp != SECCOMP_FILTER);
    String detail = ok
        ? "may load BPF programs and sample every CPU"
        : split
            ? "CAP_BPF and CAP_PERFMON without CAP_SYS_ADMIN under a seccomp filter: container runtimes' default profiles refuse bpf() then"
            : "no BPF privileges (effective capabilities 0x" + Long.toHexString(caps) + ")";
    return new Check("privileges", ok, detail, "run as root (sudo ./braid ...); in a container, --cap-add SYS_ADMIN --cap-add SYS_PTRACE, or --privileged");
  }

  /** CAP_SYS_PTRACE: without it, other users' and containers' processes hide their executables. */
  public static Check otherProcesses() {
    return otherProcesses(effectiveCapabilities(selfStatus()));
  }

  static Check otherProcesses(long caps) {
    boolean ok = has(caps, CAP_SYS_PTRACE);
    return new Check("other processes", ok,
        ok ? "may look into every process (CAP_SYS_PTRACE)" : "no CAP_SYS_PTRACE: processes of other users and containers cannot be traced",
        "run as root; in a container, --cap-add SYS_PTRACE");
  }

  private static String selfStatus() {
    try {
      return Files.readString(Path.of("/proc/self/status"));
    } catch (IOException e) {
      return "";
    }
  }

  /** {@code Seccomp:} of /proc/PID/status: 0 none, 1 strict, 2 filter. */
  static int seccompMode(String status) {
    return status.lines().filter(l -> l.startsWith("Seccomp:")).findFirst().map(l -> Integer.parseInt(l.substring("Seccomp:".length()).strip())).orElse(0);
  }

  static Check bpffs(Path pinRoot) {
    if (!Files.isDirectory(pinRoot)) {
      return new Check("bpffs", false, pinRoot + " does not exist", "mkdir -p " + pinRoot + " && mount -t bpf bpf " + pinRoot);
    }
    String type = fileSystemType(pinRoot);
    boolean ok = "bpf".equals(type);
    String detail = ok ? pinRoot + " is on bpffs" : pinRoot + " is on " + (type == null ? "an unknown file system" : type) + ", not bpffs";
    return new Check("bpffs", ok, detail, "mount -t bpf bpf " + pinRoot + " (./braid mounts /sys/fs/bpf when it runs as root)");
  }

  static Check uprobes() {
    boolean ok = Files.isDirectory(Path.of("/sys/bus/event_source/devices/uprobe"));
    return new Check(
        "uprobes", ok, ok ? "the uprobe PMU is present" : "the kernel has no uprobe PMU", "use a kernel built with CONFIG_UPROBE_EVENTS=y");
  }

  static Check libbpf() {
    Optional<String> path = Optional.ofNullable(System.getProperty("braid.native")).map(dir -> Path.of(dir, "libbpf.so.1")).filter(Files::exists)
        .map(p -> p + " (bundled)").or(() -> findLibrary("libbpf.so.1"));
    return new Check(
        "libbpf",
        path.isPresent(),
        path.map(p -> "found " + p).orElse("libbpf.so.1 is not installed"),
        "apt-get install libbpf1 (libbpf 1.0 or newer)");
  }

  static Check jdk() {
    int feature = Runtime.version().feature();
    boolean ok = feature >= JDK;
    return new Check(
        "JDK",
        ok,
        "running on JDK " + Runtime.version() + (ok ? "" : "; braid needs " + JDK),
        "install a JDK " + JDK + " (for example Temurin) under /usr/lib/jvm or set JAVA_HOME");
  }

  static Check go() {
    Optional<String> out = run(List.of("go", "env", "GOVERSION"));
    Matcher m = Pattern.compile("go1\\.(\\d+)").matcher(out.orElse(""));
    boolean ok = m.find() && Integer.parseInt(m.group(1)) >= MIN_GO_MINOR;
    return new Check(
        "Go",
        ok,
        out.map(v -> v.strip() + (ok ? "" : " is older than go1." + MIN_GO_MINOR)).orElse("go is not on PATH"),
        "install Go 1." + MIN_GO_MINOR + " or newer (https://go.dev/dl) and put it on PATH; it builds examples/");
  }

  static Check tool(String name, List<String> command, String fix) {
    Optional<String> out = run(command);
    return new Check(name, out.isPresent(), out.map(o -> o.lines().findFirst().orElse("").strip()).orElse(name + " is not on PATH"), fix);
  }

  static long effectiveCapabilities(String status) {
    for (String line : status.split("\n")) {
      if (line.startsWith("CapEff:")) {
        return Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
      }
    }
    return 0;
  }

  private static boolean has(long caps, int cap) {
    return (caps & (1L << cap)) != 0;
  }

  /** The type of the file system {@code dir} is on: its longest mount point prefix in /proc/self/mounts. */
  static String fileSystemType(Path dir) {
    try {
      Path want = dir.toAbsolutePath().normalize();
      String type = null;
      int longest = -1;
      for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
        String[] f = line.split(" ");
        if (f.length < 3) {
          continue;
        }
        Path mountPoint = Path.of(f[1].replace("\\040", " "));
        // ">=": of mounts stacked on one point, the last one is what is seen.
        if (want.startsWith(mountPoint) && mountPoint.getNameCount() >= longest) {
          longest = mountPoint.getNameCount();
          type = f[2];
        }
      }
      return type;
    } catch (IOException e) {
      return null;
    }
  }

  private static Optional<String> findLibrary(String soname) {
    Optional<String> ldconfig = run(List.of("/sbin/ldconfig", "-p"));
    if (ldconfig.isPresent()) {
      for (String line : ldconfig.get().split("\n")) {
        if (line.strip().startsWith(soname + " ") && line.contains("x86-64")) {
          return Optional.of(line.substring(line.indexOf("=>") + 2).strip());
        }
      }
    }
    for (String dir : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")) {
      if (Files.exists(Path.of(dir, soname))) {
        return Optional.of(dir + "/" + soname);
      }
    }
    return Optional.empty();
  }

  private static Optional<String> run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return Optional.empty();
      }
      return Optional.of(out);
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** {@code java SystemCheck.java [pin-root]}: prints every check; exits 0 only when all pass. */
  public static void main(String[] args) {
    System.exit(printReport(Path.of(args.length > 0 ? args[0] : "/sys/fs/bpf")) ? 0 : 2);
  }

  /**
   * Prints every check, what peers need, and the verdict; whether braid can run here. A release
   * (its bundled libbpf, {@code -Dbraid.native}) builds nothing: only the run-time checks apply.
   */
  public static boolean printReport(Path pinRoot) {
    List<Check> checks = System.getProperty("braid.native") != null ? runtimeChecks(pinRoot) : allChecks(pinRoot);
    for (Check c : checks) {
      System.out.println(c.render());
    }
    System.out.println("for peers beside braid (opentelemetry-ebpf-profiler as its reader, OBI), not for braid itself:");
    for (Check c : peerChecks()) {
      System.out.println(c.renderForPeer());
    }
    boolean ok = failures(checks).isEmpty();
    System.out.println(ok ? "braid can run here." : "braid cannot run here until the checks above that FAIL are fixed.");
    return ok;
  }
}
