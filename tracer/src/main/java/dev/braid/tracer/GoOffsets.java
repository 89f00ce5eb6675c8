package dev.braid.tracer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Field offsets of one Go binary, as the probes need them: {@code struct go_offsets} of
 * bpf/src/main/c/tracer.h. An offset that is not known is {@link #UNKNOWN}, and the features that
 * need it are off.
 */
public record GoOffsets(
    int features,
    int gGoid,
    int requestMethod,
    int requestUrl,
    int requestHeader,
    int requestPattern,
    int urlPath,
    int responseStatus,
    int responseReq,
    int mapLayout,
    int hmapB,
    int hmapBuckets,
    int hmapOldbuckets,
    int swissDirPtr,
    int swissDirLen,
    int swissTableGroups) {

  public static final int UNKNOWN = -1;
  public static final int FEAT_HTTP_SERVER = 1;
  public static final int FEAT_TRACEPARENT = 1 << 1;
  public static final int FEAT_ROUTE = 1 << 2;
  public static final int MAP_LAYOUT_BUCKETS = 1;
  public static final int MAP_LAYOUT_SWISS = 2;
  /** sizeof(struct go_offsets): 16 u32 fields. */
  public static final int SIZE = 16 * 4;

  public boolean has(int feature) {
    return (features & feature) == feature;
  }

  /** The C struct's bytes; unknown offsets are written as 0 (their features are off). */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (int v :
        new int[] {
          features, gGoid, requestMethod, requestUrl, requestHeader, requestPattern, urlPath, responseStatus,
          responseReq, mapLayout, hmapB, hmapBuckets, hmapOldbuckets, swissDirPtr, swissDirLen, swissTableGroups
        }) {
      b.putInt(Math.max(v, 0));
    }
    return b.array();
  }
}
