package dev.braid.bpf;

/**
 * What the kernel says about a map ({@code struct bpf_map_info}).
 *
 * @param type a {@code BPF_MAP_TYPE_*} value, see {@link MapType}
 */
public record MapInfo(
    int type,
    int id,
    int keySize,
    int valueSize,
    int maxEntries,
    int flags,
    String name,
    int btfId,
    int btfKeyTypeId,
    int btfValueTypeId) {

  /** {@code lru_hash} for {@code BPF_MAP_TYPE_LRU_HASH}, as bpftool names types. */
  public String typeName() {
    return MapType.name(type);
  }
}
