package dev.braid.tracer;

import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.ElfSymbol;
import dev.braid.elf.NotElfException;
import dev.braid.elf.ProgramHeader;
import dev.braid.elf.go.GoBuildInfo;
import dev.braid.elf.go.GoDwarf;
import dev.braid.elf.go.GoFunction;
import dev.braid.elf.go.GoVersion;
import dev.braid.elf.go.Pclntab;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the tracer knows about one Go executable: where each probe goes, the struct offsets the
 * probes need, and which features are off (with the reason, in {@link #warnings()}). Immutable;
 * made by {@link #inspect}, which needs no privilege.
 *
 * @param sites the probes to attach, by file offset; probes of features that are off are absent
 * @param offsetSource where the offsets came from: {@code DWARF}, or the offset table's range
 * @param goroutineTls where a thread's g pointer is, as an offset from its thread pointer (FS
 *     base); empty when unknown (then {@code --ctx-source sample} is off for the binary)
 */
public record GoProgram(
    Path path,
    FileIdentity identity,
    String goVersion,
    boolean positionIndependent,
    String offsetSource,
    List<ProbeSite> sites,
    GoOffsets offsets,
    OptionalInt goroutineTls,
    List<String> warnings) {

  /** The oldest Go whose register ABI the probes read (Go 1.17 brought it to amd64). */
  static final GoVersion OLDEST = new GoVersion(1, 17, 0);

  /**
   * A goroutine that never inherits a span: its start function, and the function whose go
   * statement starts it (its compiler-made wrappers are named after that one). Without a start
   * function: every goroutine that function starts (the closures it passes to runtime.newproc).
   */
  record NoInherit(String start, String startedIn) {
    static NoInherit everyGoroutineOf(String function) {
      return new NoInherit("", function);
    }
  }

  /**
   * Goroutines that outlive the request that happened to start them: a pooled connection's
   * readLoop and writeLoop (HTTP/1), an HTTP/2 client connection's readLoop and a stream's
   * doRequest (it writes the request and cleans up after the response came, as HTTP/1's
   * writeLoop does), and the runtime's own workers (GC mark workers start at the first GC,
   * in whichever goroutine allocated; the finalizer and cleanup runners, at the first
   * SetFinalizer or AddCleanup). Inheriting would show that span on all of their later work.
   */
  static final List<NoInherit> NO_INHERIT =
      List.of(
          new NoInherit("net/http.(*persistConn).readLoop", "net/http.(*Transport).dialConn"),
          new NoInherit("net/http.(*persistConn).writeLoop", "net/http.(*Transport).dialConn"),
          new NoInherit("net/http.(*http2ClientConn).readLoop", "net/http.(*http2Transport).newClientConn"),
          new NoInherit("net/http.(*http2clientStream).doRequest", "net/http.(*http2ClientConn).roundTrip"),
          new NoInherit("net/http.(*http2clientStream).doRequest", "net/http.(*http2ClientConn).RoundTrip"), // Go < 1.22
          new NoInherit("net/http/internal/http2.(*ClientConn).readLoop", "net/http/internal/http2.(*Transport).newClientConn"), // Go 1.27+
          new NoInherit("net/http/internal/http2.(*clientStream).doRequest", "net/http/internal/http2.(*ClientConn).roundTrip"),
          // A gRPC client connects, resolves names and runs its balancer when its first call needs it.
          new NoInherit("google.golang.org/grpc.(*addrConn).resetTransportAndUnlock", "google.golang.org/grpc.(*addrConn).connect"),
          new NoInherit("google.golang.org/grpc/internal/resolver/dns.(*dnsResolver).watcher", "google.golang.org/grpc/internal/resolver/dns.(*dnsBuilder).Build"),
          new NoInherit("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run", "google.golang.org/grpc/internal/grpcsync.NewCallbackSerializer"),
          // A client stream's watcher of its context (a closure): it outlives the stream's span.
          NoInherit.everyGoroutineOf("google.golang.org/grpc.newClientStreamWithParams"),
          new NoInherit("runtime.gcBgMarkWorker", "runtime.gcBgMarkStartWorkers"),
          new NoInherit("runtime.runfinq", "runtime.createfing"),
          new NoInherit("runtime.runFinalizers", "runtime.createfing"),
          new NoInherit("runtime.runCleanups", "runtime.(*cleanupQueue).createGs"));

  /** The FEAT_* bits that each feature's probes make true: off when none of its probes is placed. */
  private static final Map<Probe.Feature, Integer> FEATURE_BITS =
      Map.of(
          Probe.Feature.INHERIT, GoOffsets.FEAT_INHERIT,
          Probe.Feature.HTTP_SERVER, GoOffsets.FEAT_HTTP_SERVER | GoOffsets.FEAT_ROUTE,
          Probe.Feature.HTTP2_SERVER, GoOffsets.FEAT_HTTP2_SERVER,
          Probe.Feature.GRPC_SERVER, GoOffsets.FEAT_GRPC_SERVER | GoOffsets.FEAT_GRPC_STREAM_PTR,
          Probe.Feature.GRPC_CLIENT, GoOffsets.FEAT_GRPC_CLIENT,
          Probe.Feature.HTTP_CLIENT, GoOffsets.FEAT_HTTP_CLIENT,
          Probe.Feature.SDK_SPANS, GoOffsets.FEAT_SDK_SPANS,
          Probe.Feature.AUTO_SDK, GoOffsets.FEAT_AUTO_SDK,
          Probe.Feature.CHANNEL_LINKS, GoOffsets.FEAT_CHAN_LINKS);

  /**
   * Where one probe goes.
   *
   * @param argumentSlots the offsets from SP, there, of the arguments the probe reads from their
   *     spill slots ({@link Probe#spilledArguments()}, at most two)
   */
  public record ProbeSite(Probe probe, long address, long fileOffset, List<Integer> argumentSlots) {
    public ProbeSite {
      argumentSlots = List.copyOf(argumentSlots);
    }

    /** The attach cookie: the binary's id, then each argument slot in 16 bits. */
    long cookie(int binaryId) {
      long cookie = Integer.toUnsignedLong(binaryId);
      for (int i = 0; i < argumentSlots.size(); i++) {
        cookie |= (long) argumentSlots.get(i) << (32 + 16 * i);
      }
      return cookie;
    }
  }

  public GoProgram {
    sites = List.copyOf(sites);
    warnings = List.copyOf(warnings);
  }

  /** The sites of one probe (none when its feature is off). */
  public List<ProbeSite> sites(Probe probe) {
    return sites.stream().filter(s -> s.probe() == probe).toList();
  }

  public boolean has(Probe.Feature feature) {
    return sites.stream().anyMatch(s -> s.probe().feature == feature);
  }

  /** The name OpenTelemetry's {@code service.name} defaults to: the executable's file name. */
  public String serviceName() {
    return path.getFileName().toString();
  }

  /**
   * Reads a binary and plans its probes, with offsets from its DWARF or from the bundled tables.
   *
   * @throws UnsupportedBinaryException with the reason when braid cannot trace it at all
   */
  public static GoProgram inspect(Path path) {
    return inspect(path, OffsetTable.bundled());
  }

  static GoProgram inspect(Path path, OffsetTable table) {
    return inspect(path, table, OffsetTable.bundled(OffsetTable.Scheme.GRPC));
  }

  static GoProgram inspect(Path path, OffsetTable table, OffsetTable grpcTable) {
    return inspect(path, table, grpcTable, OffsetTable.bundled(OffsetTable.Scheme.OTEL_SDK));
  }

  static GoProgram inspect(Path path, OffsetTable table, OffsetTable grpcTable, OffsetTable sdkTable) {
    if (!Files.exists(path)) {
      throw new UnsupportedBinaryException(path, "no such file");
    }
    if (!Files.isRegularFile(path)) {
      throw new UnsupportedBinaryException(path, "not a regular file");
    }
    Path real;
    try {
      // A process's file seen through /proc/PID/root (its mount namespace: a container's, or the
      // host's when braid runs in one) is followed only by the kernel: realpath(3) reads that link
      // as "/" and would name a file of braid's own namespace, or none.
      real = path.startsWith("/proc") ? path : path.toRealPath();
    } catch (IOException e) {
      throw new UnsupportedBinaryException(path, "cannot resolve: " + e.getMessage(), e);
    }
    FileIdentity identity = FileIdentity.of(real).orElseThrow(() -> new UnsupportedBinaryException(path, "cannot stat the file"));
    try (ElfFile elf = ElfFile.open(real)) {
      return new Planner(real, elf, table, grpcTable, sdkTable).plan(identity);
    } catch (ElfException e) {
      String problem = "not an ELF executable braid can read: " + e.getMessage();
      throw e instanceof NotElfException ? UnsupportedBinaryException.notGo(path, problem, e) : new UnsupportedBinaryException(path, problem, e);
    }
  }

  private static final Pattern THROUGH_ROOT = Pattern.compile("^/proc/\\d+/root/");

  /**
   * This file as process {@code pid} (one of its processes) reaches it: a path through another
   * process's {@code /proc/PID/root} lasts only as long as that process.
   */
  public Path pathIn(int pid) {
    return Path.of(THROUGH_ROOT.matcher(path().toString()).replaceFirst("/proc/" + pid + "/root/"));
  }

  /** Plans one binary's probes. */
  private static final class Planner {
    private final Path path;
    private final ElfFile elf;
    private final OffsetTable table;
    private final OffsetTable grpcTable;
    private final OffsetTable sdkTable;
    private final List<String> warnings = new ArrayList<>();
    private Pclntab pclntab;

    Planner(Path path, ElfFile elf, OffsetTable table, OffsetTable grpcTable, OffsetTable sdkTable) {
      this.sdkTable = sdkTable;
      this.path = path;
      this.elf = elf;
      this.table = table;
      this.grpcTable = grpcTable;
    }

    GoProgram plan(FileIdentity identity) {
      GoBuildInfo info =
          GoBuildInfo.read(elf).orElseThrow(() -> UnsupportedBinaryException.notGo(path, "not a Go program (it has no Go build information)", null));
      GoVersion version =
          info.version().orElseThrow(() -> new UnsupportedBinaryException(path, "built by an unknown Go toolchain (" + info.goVersionString() + ")"));
      if (version.compareTo(OLDEST) < 0) {
        throw new UnsupportedBinaryException(path, "built by " + version + "; braid needs Go 1.17 or newer (the register ABI)");
      }
      try {
        pclntab = Pclntab.read(elf);
      } catch (ElfException e) {
        throw new UnsupportedBinaryException(path, "its Go function table cannot be read: " + e.getMessage(), e);
      }
      OffsetSource source = offsetSource(version, info.deps());
      OffsetResolver.Resolution resolution = OffsetResolver.resolve(source, version, info.settings(), info.deps());
      warnings.addAll(resolution.warnings());
      GoOffsets offsets = resolution.offsets();
      if (offsets.offset(GoField.G_GOID) < 0) {
        throw new UnsupportedBinaryException(path, source.describe() + " does not describe runtime.g.goid: goroutines cannot be followed");
      }

      Set<Probe.Feature> on = EnumSet.of(Probe.Feature.CONTEXT, Probe.Feature.PROPAGATE);
      OptionalInt tls = goroutineTls();
      if (tls.isEmpty()) {
        warnings.add("where the runtime keeps g in thread-local storage is unknown (a cgo binary without symbols): --ctx-source sample is off");
      } else if (offsets.offset(GoField.G_M) < 0 || offsets.offset(GoField.M_CURG) < 0) {
        warnings.add(source.describe() + " does not describe runtime.g.m and runtime.m.curg: --ctx-source sample is off");
      } else {
        on.add(Probe.Feature.SAMPLE_CONTEXT);
      }
      if (offsets.has(GoOffsets.FEAT_INHERIT)) {
        on.add(Probe.Feature.INHERIT);
      }
      if (offsets.has(GoOffsets.FEAT_HTTP_SERVER)) {
        on.add(Probe.Feature.HTTP_SERVER);
        if (offsets.has(GoOffsets.FEAT_HTTP2_SERVER)) {
          on.add(Probe.Feature.HTTP2_SERVER);
        }
      }
      if (offsets.has(GoOffsets.FEAT_CHAN_LINKS)) {
        on.add(Probe.Feature.CHANNEL_LINKS);
      }
      if (offsets.has(GoOffsets.FEAT_GRPC_SERVER)) {
        on.add(Probe.Feature.GRPC_SERVER);
      }
      if (offsets.has(GoOffsets.FEAT_GRPC_CLIENT)) {
        on.add(Probe.Feature.GRPC_CLIENT);
      }
      if (offsets.has(GoOffsets.FEAT_SDK_SPANS)) {
        on.add(Probe.Feature.SDK_SPANS);
      }
      if (offsets.has(GoOffsets.FEAT_AUTO_SDK)) {
        on.add(Probe.Feature.AUTO_SDK);
      }
      if (offsets.has(GoOffsets.FEAT_HTTP_CLIENT)) {
        on.add(Probe.Feature.HTTP_CLIENT);
      } else {
        on.remove(Probe.Feature.PROPAGATE);
      }
      List<ProbeSite> sites = new ArrayList<>();
      for (Probe.Feature feature : Probe.Feature.values()) {
        if (on.contains(feature)) {
          planFeature(feature, sites);
        }
      }
      offsets = withSpawnSite(offsets, sites);
      offsets = withGrpcClientEnd(offsets, sites);
      int features = offsets.features();
      for (Map.Entry<Probe.Feature, Integer> bits : FEATURE_BITS.entrySet()) {
        if (sites.stream().noneMatch(s -> s.probe().feature == bits.getKey())) {
          features &= ~bits.getValue();
        }
      }
      OptionalInt sampleTls = sites.stream().anyMatch(s -> s.probe().feature == Probe.Feature.SAMPLE_CONTEXT) ? tls : OptionalInt.empty();
      return new GoProgram(
          path, identity, version.toString(), elf.isPositionIndependent(), source.describe(), sites, offsets.withFeatures(features), sampleTls, warnings);
    }

    /**
     * The g pointer's offset from the thread pointer. amd64 keeps TLS below the thread pointer
     * (variant II): the executable's TLS block ends there, and runtime.tlsg sits at its symbol
     * value within the block. Go's own linker makes a block of just that slot (-8); an external
     * linker (cgo) places it, and only the symbol says where.
     */
    private OptionalInt goroutineTls() {
      Optional<ProgramHeader> tls = elf.programHeaders().stream().filter(h -> h.type() == ProgramHeader.PT_TLS).findFirst();
      if (tls.isEmpty()) {
        return OptionalInt.empty();
      }
      long align = Math.max(tls.get().align(), 1);
      long blockSize = (tls.get().memSize() + align - 1) / align * align;
      Optional<ElfSymbol> tlsg = elf.symbol("runtime.tlsg");
      if (tlsg.isPresent()) {
        return OptionalInt.of((int) (tlsg.get().value() - blockSize));
      }
      return tls.get().memSize() <= 8 ? OptionalInt.of((int) -blockSize) : OptionalInt.empty();
    }

    /** How far before its CALL of runtime.newproc a go statement loads its function (a closure's captures are stored in between). */
    private static final int GO_STATEMENT_WINDOW = 192;

    /**
     * Entries of the functions that {@code function}'s go statements start: the code addresses it
     * loads just before each CALL of runtime.newproc, or a static funcval's first word, that are
     * Go function entries.
     */
    private List<Long> goroutinesStartedBy(String function) {
      Optional<GoFunction> f = pclntab.function(function);
      Optional<GoFunction> newproc = pclntab.function("runtime.newproc");
      if (f.isEmpty() || newproc.isEmpty()) {
        return List.of();
      }
      Optional<ByteBuffer> code = elf.bytesAt(f.get().entry(), f.get().end() - f.get().entry());
      if (code.isEmpty()) {
        return List.of();
      }
      List<Long> calls = CallSites.callsTo(code.get(), f.get().entry(), newproc.get().entry());
      List<Long> started = new ArrayList<>();
      for (long address : CallSites.addressesLoadedBefore(code.get(), f.get().entry(), calls, GO_STATEMENT_WINDOW)) {
        long entry = isFunctionEntry(address) ? address : funcvalCode(address);
        if (isFunctionEntry(entry) && !started.contains(entry)) {
          started.add(entry);
        }
      }
      return started;
    }

    /** The code address a static funcval at {@code address} holds (in a PIE, the relocation's addend). */
    private long funcvalCode(long address) {
      OptionalLong relocated = elf.relativeRelocations().addendAt(address);
      if (relocated.isPresent()) {
        return relocated.getAsLong();
      }
      return elf.bytesAt(address, 8).map(b -> b.order(ByteOrder.LITTLE_ENDIAN).getLong(b.position())).orElse(0L);
    }

    private boolean isFunctionEntry(long address) {
      return address != 0 && pclntab.functionAt(address).filter(fn -> fn.entry() == address).isPresent();
    }

    /**
     * What the gRPC client's end probe compares a call's error with: the code of
     * (*status.Error).Error and of (*errors.errorString).Error (io.EOF's type), the method an
     * error's itab holds, from the Go function table (a stripped binary has it too; Go 1.27
     * writes no itab symbols).
     */
    private GoOffsets withGrpcClientEnd(GoOffsets offsets, List<ProbeSite> sites) {
      Optional<ProbeSite> end = sites.stream().filter(s -> s.probe() == Probe.GRPC_CLIENT_END).findFirst();
      if (end.isEmpty()) {
        return offsets;
      }
      Optional<GoFunction> statusError = pclntab.function("google.golang.org/grpc/internal/status.(*Error).Error");
      Optional<GoFunction> errorString = pclntab.function("errors.(*errorString).Error");
      if (statusError.isEmpty() || errorString.isEmpty()) {
        warnings.add("(*status.Error).Error or (*errors.errorString).Error is not in the binary: gRPC client spans are off");
        sites.removeIf(s -> s.probe().feature == Probe.Feature.GRPC_CLIENT);
        return offsets;
      }
      return offsets.withGrpcClientEnd(new GoOffsets.GrpcClientEnd(end.get().address(), statusError.get().entry(), errorString.get().entry()));
    }

    /** The spawn probe's site, and the start PCs of the goroutines of {@link #NO_INHERIT}. */
    private GoOffsets withSpawnSite(GoOffsets offsets, List<ProbeSite> sites) {
      Optional<ProbeSite> spawn = sites.stream().filter(s -> s.probe() == Probe.SPAWN).findFirst();
      if (spawn.isEmpty()) {
        return offsets;
      }
      List<Long> noInherit = new ArrayList<>();
      for (NoInherit n : NO_INHERIT) {
        if (n.start().isEmpty()) {
          noInherit.addAll(goroutinesStartedBy(n.startedIn()));
          continue;
        }
        Optional<GoFunction> fn = pclntab.function(n.start());
        if (fn.isEmpty()) {
          continue;
        }
        noInherit.add(fn.get().entry());
        // `go pconn.readLoop()` starts a compiler-made wrapper (dialConn.gowrap2 in Go 1.22+):
        // the goroutine's start PC is the wrapper's, so the wrappers that call it count too.
        String wrappers = n.startedIn() + ".";
        for (GoFunction w : pclntab.functions()) {
          if (w.name().startsWith(wrappers)) {
            Optional<ByteBuffer> code = elf.bytesAt(w.entry(), w.end() - w.entry());
            if (code.isPresent() && !CallSites.callsTo(code.get(), w.entry(), fn.get().entry()).isEmpty()) {
              noInherit.add(w.entry());
            }
          }
        }
      }
      noInherit = noInherit.stream().distinct().toList(); // a start function may be listed once per function that starts it
      if (noInherit.size() > GoOffsets.NO_INHERIT_MAX) {
        warnings.add("more long-lived goroutine starts than braid keeps (" + noInherit.size() + " > " + GoOffsets.NO_INHERIT_MAX
            + "): some of them may show the span of the request that started them");
        noInherit = noInherit.subList(0, GoOffsets.NO_INHERIT_MAX);
      }
      return offsets.withSpawn(spawn.get().address(), noInherit);
    }

    /**
     * The binary's DWARF, else the Go table's range for its version (with the grpc table's range for
     * the grpc it links, if it links one the table covers), else a refusal that says why.
     */
    private OffsetSource offsetSource(GoVersion version, Map<String, String> deps) {
      Optional<GoDwarf> dwarf = GoDwarf.read(elf);
      if (dwarf.isPresent()) {
        return new OffsetSource.Dwarf(dwarf.get());
      }
      OffsetSource.Table go =
          table
              .forVersion(version)
              .orElseThrow(
                  () ->
                      new UnsupportedBinaryException(
                          path,
                          "built by "
                              + version
                              + " without DWARF (-ldflags=-s -w), and braid's offset table covers "
                              + table.newestOf(version).map(v -> version.release() + " only up to " + v).orElse("no " + version.release())
                              + ": runtime.g's layout is unknown, so goroutines cannot be followed. Build without -w, or update braid"));
      go = withModule(go, deps, OffsetResolver.GRPC_MODULE, grpcTable, "gRPC spans are off");
      // The SDK's table holds the SpanContext of go.opentelemetry.io/otel/trace, a module of its own: its version must be covered too.
      String trace = deps.get(OffsetResolver.OTEL_TRACE_MODULE);
      String sdk = deps.get(OffsetResolver.OTEL_SDK_MODULE);
      if (trace != null && sdk != null && !trace.equals(sdk) && OffsetTable.Scheme.OTEL_SDK.parse(trace).flatMap(sdkTable::forVersion).isEmpty()) {
        warnings.add("built without DWARF with " + OffsetResolver.OTEL_TRACE_MODULE + " " + trace + ", and braid's SDK offset table covers "
            + sdkTable.span() + ": the application's spans are not followed (samples name braid's spans). Build without -w, or update braid");
        return go;
      }
      return withModule(go, deps, OffsetResolver.OTEL_SDK_MODULE, sdkTable, "the application's spans are not followed (samples name braid's spans)");
    }

    /** The offsets of {@code go} and, if the binary links {@code module}, those of the module's version in {@code moduleTable}. */
    private OffsetSource.Table withModule(OffsetSource.Table go, Map<String, String> deps, String module, OffsetTable moduleTable, String otherwise) {
      String version = deps.get(module);
      if (version == null) {
        return go;
      }
      Optional<OffsetSource.Table> column = moduleTable.scheme().parse(version).flatMap(moduleTable::forVersion);
      if (column.isEmpty()) {
        warnings.add("built without DWARF with " + module + " " + version + ", and braid's offset table for it covers " + moduleTable.span() + ": "
            + otherwise + ". Build without -w, or update braid");
        return go;
      }
      return go.with(column.get());
    }

    /** Adds a feature's sites, all or none; a feature that cannot be placed is off, with a warning. */
    private void planFeature(Probe.Feature feature, List<ProbeSite> sites) {
      List<ProbeSite> planned = new ArrayList<>();
      for (Probe probe : Probe.values()) {
        if (probe.feature != feature) {
          continue;
        }
        List<ProbeSite> found = place(probe);
        if (found.isEmpty()) {
          if (feature == Probe.Feature.CONTEXT) {
            throw new UnsupportedBinaryException(path, "braid cannot place its probe on " + probe.function + ": not a Go runtime braid knows");
          }
          // A program that does not link the function (no HTTP client, say) needs no word about it.
          boolean optional = feature == Probe.Feature.HTTP_SERVER || feature == Probe.Feature.HTTP_CLIENT || feature == Probe.Feature.PROPAGATE;
          if (!optional || pclntab.function(probe.function).isPresent()) {
            warnings.add("cannot place a probe on " + probe.function + ": " + describe(feature) + " is off");
          }
          return;
        }
        planned.addAll(found);
      }
      sites.addAll(planned);
    }

    private static String describe(Probe.Feature feature) {
      return switch (feature) {
        case CONTEXT -> "following goroutines";
        case SAMPLE_CONTEXT -> "--ctx-source sample";
        case INHERIT -> "span inheritance by spawned goroutines";
        case HTTP_SERVER -> "net/http server spans";
        case HTTP2_SERVER -> "the end of net/http's HTTP/2 server spans (they end when their goroutine exits, as errors)";
        case GRPC_SERVER -> "gRPC server spans";
        case GRPC_CLIENT -> "gRPC client spans";
        case HTTP_CLIENT -> "net/http client spans";
        case PROPAGATE -> "--propagate";
        case CHANNEL_LINKS -> "channel links";
        case SDK_SPANS -> "following the application's OpenTelemetry SDK spans";
        case AUTO_SDK -> "--auto-sdk";
      };
    }

    private List<ProbeSite> place(Probe probe) {
      Optional<GoFunction> fn = probe.functions.stream().map(pclntab::function).flatMap(Optional::stream).findFirst();
      if (fn.isEmpty()) {
        return List.of();
      }
      GoFunction f = fn.get();
      List<Long> addresses = new ArrayList<>();
      switch (probe.site) {
        case ENTRY -> addresses.add(f.entry() + elf.bytesAt(f.entry(), Math.min(32, f.end() - f.entry())).map(Prologue::jbeOffset).orElse(0));
        case CALL, AFTER_CALL -> {
          Optional<GoFunction> callee = pclntab.function(probe.callee);
          Optional<ByteBuffer> code = elf.bytesAt(f.entry(), f.end() - f.entry());
          if (callee.isEmpty() || code.isEmpty()) {
            return List.of();
          }
          for (long call : CallSites.callsTo(code.get(), f.entry(), callee.get().entry())) {
            addresses.add(probe.site == Probe.Site.CALL ? call : call + CallSites.CALL_LENGTH);
          }
        }
      }
      List<ProbeSite> sites = new ArrayList<>();
      for (long address : addresses) {
        OptionalLong fileOffset = elf.fileOffsetOfAddress(address);
        if (fileOffset.isEmpty()) {
          throw new UnsupportedBinaryException(path, probe.function + " at 0x" + Long.toHexString(address) + " lies in no loadable segment");
        }
        List<Integer> slots = new ArrayList<>();
        for (int argument : probe.spilledArguments()) {
          Optional<ByteBuffer> code = elf.bytesAt(f.entry(), f.end() - f.entry());
          OptionalInt found = code.isPresent() ? ArgumentSpill.slot(code.get(), f.entry(), address, argument, pclntab) : OptionalInt.empty();
          if (found.isEmpty()) {
            warnings.add(probe.function + " does not keep its argument " + argument + " on the stack where braid looks");
            return List.of(); // the feature goes off, with a warning
          }
          slots.add(found.getAsInt());
        }
        sites.add(new ProbeSite(probe, address, fileOffset.getAsLong(), slots));
      }
      return sites;
    }
  }
}
