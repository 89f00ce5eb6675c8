package dev.braid.daemon.cli;

/** A problem the user can fix (bad input, missing privilege); reported without a stack trace, exit 2. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message);
  }

  UsageException(String message, Throwable cause) {
    super(message, cause);
  }
}
