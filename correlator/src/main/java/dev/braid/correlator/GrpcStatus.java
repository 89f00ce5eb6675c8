package dev.braid.correlator;

/** gRPC status codes as OpenTelemetry's gRPC conventions name and judge them. */
final class GrpcStatus {
  /** rpc.method of a method the server does not know (it answered UNIMPLEMENTED). */
  static final String OTHER_METHOD = "_OTHER";
  static final long UNIMPLEMENTED = 12;

  /** By code: https://github.com/grpc/grpc/blob/master/doc/statuscodes.md */
  private static final String[] NAMES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED"
  };

  private GrpcStatus() {}

  /** {@code OK}, {@code NOT_FOUND}, ...; a code outside the table as its number. */
  static String name(long code) {
    return code >= 0 && code < NAMES.length ? NAMES[(int) code] : Long.toString(code);
  }

  /**
   * Whether the code makes the span an error: on a client, every code but OK; on a server only
   * those that say the server failed (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
   * UNAVAILABLE, DATA_LOSS), not those that judge the request.
   */
  static boolean isError(long code, boolean server) {
    if (!server) {
      return code != 0;
    }
    return code == 2 || code == 4 || code == 12 || code == 13 || code == 14 || code == 15;
  }
}
