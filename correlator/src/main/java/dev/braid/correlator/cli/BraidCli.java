package dev.braid.correlator.cli;

import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code braid}: the daemon's command line. */
@Command(
    name = "braid",
    mixinStandardHelpOptions = true,
    version = "braid 0.1.0",
    description = "Makes CPU profiles and traces of unmodified Go programs point at each other (traces_ctx_v1).",
    subcommands = {RunCommand.class, DemoCommand.class, DoctorCommand.class})
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
    CommandLine cli = new CommandLine(new BraidCli());
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
    System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n");
    Logger root = Logger.getLogger("");
    Level l =
        switch (level.toLowerCase(java.util.Locale.ROOT)) {
          case "debug" -> Level.FINE;
          case "trace" -> Level.FINEST;
          case "warn", "warning" -> Level.WARNING;
          case "error" -> Level.SEVERE;
          default -> Level.INFO;
        };
    root.setLevel(l);
    for (var h : root.getHandlers()) {
      h.setLevel(l);
      h.setFormatter(new java.util.logging.SimpleFormatter());
    }
    // The SDK's exporters log through JUL too; braid's own logs are what matter here.
    Logger.getLogger("io.opentelemetry").setLevel(Level.WARNING);
  }
}
