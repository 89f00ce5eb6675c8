package dev.braid.correlator.cli;

import dev.braid.correlator.conformance.ConformanceSuite;
import dev.braid.correlator.conformance.Report;
import dev.braid.examples.Examples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "conformance",
    description = {
      "Judges a writer of traces_ctx_v1 against spec/traces_ctx_v1.md: starts the example Go service 'shop',",
      "starts the writer for it (--writer-cmd; {exe} and {pin-path} are replaced), and checks the pin while",
      "requests run, end, and a process dies, and after the writer stops. Prints a report; exit 0 when all pass."
    })
final class ConformanceCommand implements Callable<Integer> {
  @Option(
      names = "--writer-cmd",
      paramLabel = "CMD",
      required = true,
      description = "the writer, run with sh -c; e.g. \"./braid run --mode writer --exe {exe} --pin-path {pin-path}\"")
  String writerCommand;

  @Option(names = "--pin-path", paramLabel = "DIR", description = "bpffs directory the writer pins under (default: a fresh one under /sys/fs/bpf)")
  Path pinPath;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the report as JSON to FILE")
  Path json;

  @Option(names = "--examples", paramLabel = "DIR", description = "where the example Go programs are built (default: examples/target/bin of the braid checkout)")
  Path examples;

  @Override
  public Integer call() throws Exception {
    Path shop = (examples != null ? examples : Examples.bin()).resolve("shop");
    if (!Files.isExecutable(shop)) {
      throw new UsageException(shop + " is missing: build the examples first (./braid build)");
    }
    Path root = pinPath != null ? pinPath : Files.createTempDirectory(Path.of("/sys/fs/bpf"), "braid-conformance-");
    RuntimeGate.requireRunnable(root);
    Report report;
    try {
      report = new ConformanceSuite(shop, root, writerCommand).run();
    } finally {
      if (pinPath == null) {
        deleteTree(root); // the suite's own pin root, with the pin the writer left
      }
    }
    System.out.print(report.text());
    if (json != null) {
      Files.writeString(json, report.json() + "\n");
    }
    return report.passed() ? 0 : 1;
  }

  private static void deleteTree(Path root) throws java.io.IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
