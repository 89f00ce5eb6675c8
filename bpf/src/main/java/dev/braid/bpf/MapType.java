package dev.braid.bpf;

/** The {@code BPF_MAP_TYPE_*} values braid deals with, and their bpftool names. */
public final class MapType {
  public static final int HASH = 1;
  public static final int ARRAY = 2;
  public static final int PERCPU_HASH = 5;
  public static final int PERCPU_ARRAY = 6;
  public static final int LRU_HASH = 9;
  public static final int LRU_PERCPU_HASH = 10;
  public static final int RINGBUF = 27;

  private MapType() {}

  static boolean isPerCpu(int type) {
    return type == PERCPU_HASH || type == PERCPU_ARRAY || type == LRU_PERCPU_HASH;
  }

  /** bpftool's name for a map type ({@code lru_hash}), or {@code type 42}. */
  public static String name(int type) {
    return switch (type) {
      case HASH -> "hash";
      case ARRAY -> "array";
      case PERCPU_HASH -> "percpu_hash";
      case PERCPU_ARRAY -> "percpu_array";
      case LRU_HASH -> "lru_hash";
      case LRU_PERCPU_HASH -> "lru_percpu_hash";
      case RINGBUF -> "ringbuf";
      default -> "type " + type;
    };
  }
}
