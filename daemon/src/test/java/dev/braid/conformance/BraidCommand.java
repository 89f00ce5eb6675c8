package dev.braid.conformance;

import java.nio.file.Path;

/** {@code braid run} from this build's class path, as the suite's writer command. */
final class BraidCommand {
  private BraidCommand() {}

  static String run(String mode) {
    return Path.of(System.getProperty("java.home"), "bin", "java") + " --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
        + " -cp " + System.getProperty("java.class.path") + " dev.braid.daemon.cli.BraidCli run " + mode
        + " --exe {exe} --pin-path {pin-path} --out " + Path.of("target", "groundtruth", "conformance-out").toAbsolutePath() + " --flush-interval 1s --log-level warn";
  }
}
