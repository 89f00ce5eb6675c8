package dev.braid.daemon.cli;

import dev.braid.bpf.SystemCheck;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "doctor", description = "Checks that this machine can run braid, and prints the fix for what fails.")
final class DoctorCommand implements Callable<Integer> {
  @Option(names = "--pin-path", description = "bpffs directory for the pinned map (default: ${DEFAULT-VALUE})", defaultValue = "/sys/fs/bpf")
  Path pinPath;

  @Override
  public Integer call() {
    return SystemCheck.printReport(pinPath) ? 0 : BraidCli.EXIT_USAGE;
  }
}
