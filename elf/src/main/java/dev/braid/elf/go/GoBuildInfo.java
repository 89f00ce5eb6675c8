package dev.braid.elf.go;

import dev.braid.elf.ElfFile;
import dev.braid.elf.Section;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the Go toolchain records in a binary's {@code .go.buildinfo} section (the data {@code go version -m}
 * prints): the toolchain version, the main package path and the build settings ({@code -buildmode}, {@code GOARCH},
 * {@code CGO_ENABLED}, {@code -ldflags}, {@code vcs.revision}, ...), in the order Go wrote them.
 *
 * <p>Only the inline-string format of Go 1.18 and later is read. Immutable.
 *
 * @param goVersionString the version exactly as recorded, e.g. "go1.26.8" or "devel go1.27-abc"
 * @param version the parsed release version; empty for development toolchains
 * @param mainPath the main package's import path ("" when the binary has no module information)
 * @param settings the {@code build} lines, key to value, unquoted
 * @param deps the modules the binary was built with ({@code dep} lines), path to version; a module
 *     replaced by another ({@code =>}) has the replacement's version
 */
public record GoBuildInfo(String goVersionString, Optional<GoVersion> version, String mainPath,
    Map<String, String> settings, Map<String, String> deps) {
  private static final byte[] MAGIC = "\u00ff Go buildinf:".getBytes(StandardCharsets.ISO_8859_1);
  private static final int HEADER_SIZE = 32;
  // Go 1.18+: flag bit 1 means the version and module info follow the header as varint-prefixed strings; before,
  // the header held pointers to Go string headers (not supported).
  private static final int FLAGS_VERSION_INLINE = 0x2;
  // cmd/go brackets the module info with 16-byte sentinels so that it can be found in old binaries.
  private static final int SENTINEL_SIZE = 16;

  public GoBuildInfo {
    settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    deps = Collections.unmodifiableMap(new LinkedHashMap<>(deps));
  }

  /** The version of module {@code path} the binary was built with, if it was. */
  public Optional<String> dependency(String path) {
    return Optional.ofNullable(deps.get(path));
  }

  /**
   * Reads the build info of {@code elf}; empty when the file has no {@code .go.buildinfo} section (not a Go binary),
   * or was built by Go older than 1.18 (pointer format), or the section is malformed.
   */
  public static Optional<GoBuildInfo> read(ElfFile elf) {
    Optional<Section> section = elf.section(".go.buildinfo");
    if (section.isEmpty()) {
      return Optional.empty();
    }
    ByteBuffer data = elf.sectionData(section.get());
    if (data.limit() < HEADER_SIZE || !hasMagic(data)) {
      return Optional.empty();
    }
    int flags = Byte.toUnsignedInt(data.get(MAGIC.length + 1));
    if ((flags & FLAGS_VERSION_INLINE) == 0) {
      return Optional.empty();
    }
    try {
      DataCursor c = new DataCursor(data, HEADER_SIZE);
      String version = c.string((int) c.uleb());
      byte[] modinfo = c.bytes((int) c.uleb());
      return Optional.of(parse(version, stripSentinels(modinfo)));
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static boolean hasMagic(ByteBuffer data) {
    for (int i = 0; i < MAGIC.length; i++) {
      if (data.get(i) != MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  private static String stripSentinels(byte[] modinfo) {
    int n = modinfo.length;
    if (n >= 2 * SENTINEL_SIZE + 1 && modinfo[n - SENTINEL_SIZE - 1] == '\n') {
      return new String(modinfo, SENTINEL_SIZE, n - 2 * SENTINEL_SIZE, StandardCharsets.UTF_8);
    }
    return new String(modinfo, StandardCharsets.UTF_8);
  }

  static GoBuildInfo parse(String version, String modinfo) {
    String mainPath = "";
    Map<String, String> settings = new LinkedHashMap<>();
    Map<String, String> deps = new LinkedHashMap<>();
    String lastDep = null;
    for (String line : modinfo.split("\n")) {
      String[] f = line.split("\t");
      if (line.startsWith("path\t")) {
        mainPath = line.substring("path\t".length());
      } else if (line.startsWith("build\t")) {
        parseSetting(line.substring("build\t".length()), settings);
      } else if (f[0].equals("dep") && f.length >= 3) {
        lastDep = f[1];
        deps.put(f[1], f[2]);
      } else if (f[0].equals("=>") && f.length >= 3 && lastDep != null) {
        deps.put(lastDep, f[2]); // "=> path version sum" replaces the dep above it
      }
    }
    return new GoBuildInfo(version, GoVersion.parse(version), mainPath, settings, deps);
  }

  private static void parseSetting(String kv, Map<String, String> settings) {
    String key;
    String rest;
    if (GoQuoted.isQuoted(kv)) {
      int n = GoQuoted.quotedPrefixLength(kv);
      if (n < 0 || n >= kv.length() || kv.charAt(n) != '=') {
        return;
      }
      key = GoQuoted.unquote(kv.substring(0, n));
      rest = kv.substring(n + 1);
    } else {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        return;
      }
      key = kv.substring(0, eq);
      rest = kv.substring(eq + 1);
    }
    if (GoQuoted.isQuoted(rest) && GoQuoted.quotedPrefixLength(rest) == rest.length()) {
      rest = GoQuoted.unquote(rest);
    }
    settings.put(key, rest);
  }
}
