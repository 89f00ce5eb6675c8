package dev.braid.tracer;

import dev.braid.elf.go.GoDwarf;
import dev.braid.elf.go.GoVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Finds a binary's {@link GoOffsets} in its DWARF. Offsets are never guessed: what DWARF does not
 * say stays unknown, and the features that need it stay off, with a warning that names them.
 */
final class OffsetResolver {
  private OffsetResolver() {}

  /** The offsets, and what is off because some are missing. */
  record Resolution(GoOffsets offsets, String source, List<String> warnings) {}

  static Resolution fromDwarf(GoDwarf dwarf, GoVersion version, Map<String, String> buildSettings) {
    List<String> warnings = new ArrayList<>();
    Fields f = new Fields(dwarf);
    int goid = f.get("runtime.g", "goid");

    int method = f.get("net/http.Request", "Method");
    int url = f.get("net/http.Request", "URL");
    int header = f.get("net/http.Request", "Header");
    int pattern = f.get("net/http.Request", "Pattern");
    int path = f.get("net/url.URL", "Path");
    int status = f.get("net/http.response", "status");
    int req = f.get("net/http.response", "req");

    boolean swiss = usesSwissMaps(version, buildSettings);
    int hmapB = GoOffsets.UNKNOWN, hmapBuckets = GoOffsets.UNKNOWN, hmapOld = GoOffsets.UNKNOWN;
    int dirPtr = GoOffsets.UNKNOWN, dirLen = GoOffsets.UNKNOWN, tableGroups = GoOffsets.UNKNOWN;
    boolean mapKnown;
    if (swiss) {
      dirPtr = f.get("internal/runtime/maps.Map", "dirPtr");
      dirLen = f.get("internal/runtime/maps.Map", "dirLen");
      int groups = f.get("internal/runtime/maps.table", "groups");
      int data = f.get("internal/runtime/maps.groupsReference", "data");
      tableGroups = groups < 0 || data < 0 ? GoOffsets.UNKNOWN : groups + data;
      mapKnown = dirPtr >= 0 && dirLen >= 0 && tableGroups >= 0;
    } else {
      hmapB = f.get("runtime.hmap", "B");
      hmapBuckets = f.get("runtime.hmap", "buckets");
      hmapOld = f.get("runtime.hmap", "oldbuckets");
      mapKnown = hmapB >= 0 && hmapBuckets >= 0 && hmapOld >= 0;
    }

    int features = 0;
    boolean http = method >= 0 && url >= 0 && path >= 0 && status >= 0 && req >= 0;
    if (http) {
      features |= GoOffsets.FEAT_HTTP_SERVER;
      if (header >= 0 && mapKnown) {
        features |= GoOffsets.FEAT_TRACEPARENT;
      } else {
        warnings.add("the request header map's layout is unknown: incoming traceparent headers are ignored (every span starts a new trace)");
      }
      if (pattern >= 0) {
        features |= GoOffsets.FEAT_ROUTE;
      } else {
        warnings.add("net/http.Request has no Pattern field (Go < 1.23): spans carry no http.route");
      }
    }
    return new Resolution(
        new GoOffsets(
            features, goid, method, url, header, pattern, path, status, req,
            swiss ? GoOffsets.MAP_LAYOUT_SWISS : GoOffsets.MAP_LAYOUT_BUCKETS,
            hmapB, hmapBuckets, hmapOld, dirPtr, dirLen, tableGroups),
        "DWARF",
        warnings);
  }

  /** Go 1.24 made swiss tables the map implementation; GOEXPERIMENT=noswissmap kept the old one until 1.26. */
  static boolean usesSwissMaps(GoVersion version, Map<String, String> buildSettings) {
    String experiments = buildSettings.getOrDefault("GOEXPERIMENT", "");
    boolean optedOut = List.of(experiments.split(",")).contains("noswissmap");
    return version.atLeast(1, 24) && !(optedOut && !version.atLeast(1, 26));
  }

  /** DWARF member offsets as ints, {@link GoOffsets#UNKNOWN} when absent. */
  private record Fields(GoDwarf dwarf) {
    int get(String struct, String member) {
      OptionalLong off = dwarf.memberOffset(struct, member);
      return off.isPresent() ? (int) off.getAsLong() : GoOffsets.UNKNOWN;
    }
  }
}
