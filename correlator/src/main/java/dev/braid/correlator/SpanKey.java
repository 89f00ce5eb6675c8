package dev.braid.correlator;

/** A span, as the correlator names it: its process and its span id. */
record SpanKey(int pid, long spanId) {
  // Written out: the generated ones go through ObjectMethods, which profiles showed at 5% of the
  // pipeline thread (a lookup or two per span event).
  @Override
  public boolean equals(Object o) {
    return o instanceof SpanKey k && k.pid == pid && k.spanId == spanId;
  }

  @Override
  public int hashCode() {
    return 31 * pid + Long.hashCode(spanId * 0x9E3779B97F4A7C15L);
  }
}
