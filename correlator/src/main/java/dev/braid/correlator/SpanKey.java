package dev.braid.correlator;

/** A span, as the correlator names it: its process and its span id. */
record SpanKey(int pid, long spanId) {}
