package dev.braid.tracer;

import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.go.GoBuildInfo;
import dev.braid.elf.go.GoDwarf;
import dev.braid.elf.go.GoFunction;
import dev.braid.elf.go.GoVersion;
import dev.braid.elf.go.Pclntab;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the tracer knows about one Go executable: where to put each probe, the field offsets the
 * probes need, and which features are off (with the reason, in {@link #warnings()}).
 * Immutable; made by {@link #inspect}, which needs no privilege.
 *
 * @param sites the probes to attach, by file offset; a probe of a feature that is off is absent
 */
public record GoProgram(
    Path path,
    FileIdentity identity,
    String goVersion,
    boolean positionIndependent,
    String offsetSource,
    Map<Probe, ProbeSite> sites,
    GoOffsets offsets,
    List<String> warnings) {

  /** The oldest Go whose register ABI the probes read (Go 1.17 brought it to amd64). */
  static final GoVersion OLDEST = new GoVersion(1, 17, 0);

  /** Where one probe goes. */
  public record ProbeSite(Probe probe, long address, long fileOffset, int prologueOffset) {}

  public GoProgram {
    sites = Map.copyOf(sites);
    warnings = List.copyOf(warnings);
  }

  public boolean tracesHttpServer() {
    return sites.containsKey(Probe.HTTP_SERVE);
  }

  /** The name OpenTelemetry's {@code service.name} defaults to: the executable's file name. */
  public String serviceName() {
    return path.getFileName().toString();
  }

  /**
   * Reads a binary and plans its probes.
   *
   * @throws UnsupportedBinaryException with the reason when braid cannot trace it at all
   */
  public static GoProgram inspect(Path path) {
    if (!Files.exists(path)) {
      throw new UnsupportedBinaryException(path, "no such file");
    }
    if (!Files.isRegularFile(path)) {
      throw new UnsupportedBinaryException(path, "not a regular file");
    }
    Path real;
    try {
      real = path.toRealPath();
    } catch (java.io.IOException e) {
      throw new UnsupportedBinaryException(path, "cannot resolve: " + e.getMessage(), e);
    }
    FileIdentity identity =
        FileIdentity.of(real).orElseThrow(() -> new UnsupportedBinaryException(path, "cannot stat the file"));
    try (ElfFile elf = ElfFile.open(real)) {
      return inspect(real, identity, elf);
    } catch (ElfException e) {
      throw new UnsupportedBinaryException(path, "not an ELF executable braid can read: " + e.getMessage(), e);
    }
  }

  private static GoProgram inspect(Path path, FileIdentity identity, ElfFile elf) {
    GoBuildInfo info =
        GoBuildInfo.read(elf)
            .orElseThrow(() -> new UnsupportedBinaryException(path, "not a Go program (it has no Go build information)"));
    GoVersion version =
        info.version()
            .orElseThrow(
                () -> new UnsupportedBinaryException(path, "built by an unknown Go toolchain (" + info.goVersionString() + ")"));
    if (version.compareTo(OLDEST) < 0) {
      throw new UnsupportedBinaryException(path, "built by " + version + "; braid needs Go 1.17 or newer (the register ABI)");
    }
    Pclntab pclntab;
    try {
      pclntab = Pclntab.read(elf);
    } catch (ElfException e) {
      throw new UnsupportedBinaryException(path, "its Go function table cannot be read: " + e.getMessage(), e);
    }

    List<String> warnings = new ArrayList<>();
    Optional<GoDwarf> dwarf = GoDwarf.read(elf);
    if (dwarf.isEmpty()) {
      throw new UnsupportedBinaryException(
          path,
          "built by " + version + " without DWARF (-ldflags=-s -w?) and braid has no offset table for that release"
              + " yet: goroutines cannot be followed without knowing runtime.g's layout. Build without -w, or use a"
              + " release braid knows");
    }
    OffsetResolver.Resolution resolution = OffsetResolver.fromDwarf(dwarf.get(), version, info.settings());
    GoOffsets offsets = resolution.offsets();
    warnings.addAll(resolution.warnings());
    if (offsets.gGoid() < 0) {
      throw new UnsupportedBinaryException(path, "its DWARF does not describe runtime.g.goid: goroutines cannot be followed");
    }

    Map<Probe, ProbeSite> sites = new EnumMap<>(Probe.class);
    for (Probe probe : Probe.values()) {
      if (probe.feature == Probe.Feature.HTTP_SERVER && !offsets.has(GoOffsets.FEAT_HTTP_SERVER)) {
        continue;
      }
      Optional<GoFunction> fn = pclntab.function(probe.function);
      if (fn.isEmpty()) {
        if (probe.feature == Probe.Feature.CONTEXT) {
          throw new UnsupportedBinaryException(path, "it has no " + probe.function + ": not a Go runtime braid knows");
        }
        warnings.add(probe.function + " is missing: net/http server spans are off");
        sites.keySet().removeIf(p -> p.feature == Probe.Feature.HTTP_SERVER);
        continue;
      }
      sites.put(probe, site(path, elf, probe, fn.get()));
    }
    if (sites.containsKey(Probe.HTTP_SERVE) != sites.containsKey(Probe.HTTP_FINISH)) {
      sites.remove(Probe.HTTP_SERVE);
      sites.remove(Probe.HTTP_FINISH);
    }
    return new GoProgram(
        path, identity, version.toString(), elf.isPositionIndependent(), resolution.source(), sites, offsets, warnings);
  }

  private static ProbeSite site(Path path, ElfFile elf, Probe probe, GoFunction fn) {
    int prologue = elf.bytesAt(fn.entry(), Math.min(32, fn.end() - fn.entry())).map(Prologue::jbeOffset).orElse(0);
    long address = fn.entry() + prologue;
    OptionalLong fileOffset = elf.fileOffsetOfAddress(address);
    if (fileOffset.isEmpty()) {
      throw new UnsupportedBinaryException(path, probe.function + " at 0x" + Long.toHexString(address) + " lies in no loadable segment");
    }
    return new ProbeSite(probe, address, fileOffset.getAsLong(), prologue);
  }

}
