package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/** Reads {@code struct bpf_map_info} for an fd. */
final class MapInfos {
  // struct bpf_map_info (linux/bpf.h): fixed offsets, 88 bytes up to map_extra.
  private static final int SIZE = 88;
  private static final int TYPE = 0;
  private static final int ID = 4;
  private static final int KEY_SIZE = 8;
  private static final int VALUE_SIZE = 12;
  private static final int MAX_ENTRIES = 16;
  private static final int MAP_FLAGS = 20;
  private static final int NAME = 24;
  private static final int NAME_LEN = 16;
  private static final int BTF_ID = 64;
  private static final int BTF_KEY_TYPE_ID = 68;
  private static final int BTF_VALUE_TYPE_ID = 72;

  private MapInfos() {}

  static MapInfo query(int fd, String where) {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment info = call.allocate(SIZE);
      MemorySegment len = call.allocateFrom(JAVA_INT, SIZE);
      LibbpfLog.begin();
      int rc = (int) Libbpf.H.OBJ_GET_INFO_BY_FD.invokeExact(fd, info, len);
      if (rc < 0) {
        throw new BpfMapException(where + ": info", -rc, LibbpfLog.recent());
      }
      byte[] name = info.asSlice(NAME, NAME_LEN).toArray(JAVA_BYTE);
      int end = 0;
      while (end < name.length && name[end] != 0) {
        end++;
      }
      return new MapInfo(
          info.get(JAVA_INT, TYPE),
          info.get(JAVA_INT, ID),
          info.get(JAVA_INT, KEY_SIZE),
          info.get(JAVA_INT, VALUE_SIZE),
          info.get(JAVA_INT, MAX_ENTRIES),
          info.get(JAVA_INT, MAP_FLAGS),
          new String(name, 0, end, StandardCharsets.US_ASCII),
          info.get(JAVA_INT, BTF_ID),
          info.get(JAVA_INT, BTF_KEY_TYPE_ID),
          info.get(JAVA_INT, BTF_VALUE_TYPE_ID));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }
}
