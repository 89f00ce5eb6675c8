package dev.braid.daemon.cli;

import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code braid}: the daemon's command line. */
@Command(
    name = "braid",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT, // --help and --version on every subcommand too
    version = "braid 0.1.0",
    description = "Makes CPU profiles and traces of unmodified Go programs point at each other (traces_ctx_v1).",
    subcommands = {RunCommand.class, DemoCommand.class, ReportCommand.class, DoctorCommand.class, ConformanceCommand.class})
public final class BraidCli implements Runnable {
  /** Bad input or an environment braid cannot run in: the message says what to fix. */
  public static final int EXIT_USAGE = 2;

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code (for tests). */
  public static int execute(String... args) {
    configureLogging("info");
    CommandLine cli = new CommandLine(new BraidCli()).setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExitCodeExceptionMapper(e -> e instanceof UsageException ? EXIT_USAGE : 1);
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof UsageException) {
            cmd.getErr().println("braid: " + e.getMessage());
          } else {
            cmd.getErr().println("braid: " + e);
            e.printStackTrace(cmd.getErr());
          }
          return cmd.getExitCodeExceptionMapper().getExitCode(e);
        });
    cli.setParameterExceptionHandler(
        (e, a) -> {
          e.getCommandLine().getErr().println("braid: " + e.getMessage());
          e.getCommandLine().usage(e.getCommandLine().getErr());
          return EXIT_USAGE;
        });
    return cli.execute(args);
  }

  /** One line per record on stderr: stdout is kept for what scripts read ("ready"). */
  static void configureLogging(String level) {
    configureLogging(level, "logfmt");
  }

  /**
   * @throws IllegalArgumentException an unknown level or format, with what is accepted
   */
  static void configureLogging(String level, String format) {
    Level l =
        switch (level.toLowerCase(java.util.Locale.ROOT)) {
          case "debug" -> Level.FINE;
          case "trace" -> Level.FINEST;
          case "info" -> Level.INFO;
          case "warn", "warning" -> Level.WARNING;
          case "error" -> Level.SEVERE;
          default -> throw new IllegalArgumentException("--log-level must be error, warn, info, debug or trace, not '" + level + "'");
        };
    LogFormat formatter = LogFormat.parse(format);
    Logger root = Logger.getLogger("");
    root.setLevel(l);
    for (var h : root.getHandlers()) {
      h.setLevel(l);
      h.setFormatter(formatter);
    }
    // Libraries log through JUL too (grpc, netty); braid's own logs are what matter here.
    Logger.getLogger("io.opentelemetry").setLevel(Level.WARNING);
    Logger.getLogger("io.grpc").setLevel(Level.WARNING);
  }
}
