package dev.braid.bpf;

/** An object failed to load: the verifier rejected a program, or a map could not be created. */
public final class BpfLoadException extends BpfException {
  BpfLoadException(String where, int errno, String libbpfLog) {
    super(where, errno, libbpfLog);
  }
}
