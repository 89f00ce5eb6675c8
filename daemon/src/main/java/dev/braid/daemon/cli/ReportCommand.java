package dev.braid.daemon.cli;

import dev.braid.correlator.report.ReportPage;
import dev.braid.correlator.report.RunFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code braid report DIR}: report.html from the files of an earlier run, or of a collector's file exporter. */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "Writes DIR/report.html from the OTLP/JSON files in DIR: braid's traces.jsonl and profiles.jsonl (demo and run write it themselves),",
      "or what a collector's file exporter stored (*.jsonl, of braid's or another writer's traces and profiles).",
      "One self-contained page that opens offline: routes, the slowest traces with their span links, and a flame graph of each span's CPU samples."
    })
public final class ReportCommand implements Callable<Integer> {
  /** The most a stopping run reads to make its report: ~15 s. */
  private static final long AT_STOP = 256L << 20;

  @Parameters(paramLabel = "DIR", description = "the directory of the run's files")
  Path dir;

  @Option(names = "--out", paramLabel = "FILE", description = "where to write the page (default: DIR/report.html)")
  Path out;

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new UsageException(dir + " is not a directory: give the --out directory of a braid run, or a collector's file exporter's");
    }
    try {
      ReportPage.Summary s = ReportPage.write(dir, out != null ? out : dir.resolve("report.html"), step -> System.err.println("braid: " + step));
      System.out.println("wrote " + s.path().toAbsolutePath() + " (" + s.spans() + " spans, " + s.samples() + " samples)");
      return 0;
    } catch (IOException e) {
      throw new UsageException(e.getMessage(), e);
    }
  }

  /**
   * For demo and run: the report of what was just written, or why there is none; never fails the
   * run. Files too large to read while stopping (at ~15 MiB/s) are left to {@code braid report}.
   */
  static void afterRun(Path dir) {
    try {
      long bytes = RunFiles.in(dir).bytes();
      if (bytes > AT_STOP) {
        System.err.println("braid: no report.html yet: the run's files are " + (bytes >> 20) + " MiB, too many to read while stopping;"
            + " braid report " + dir + " makes it (about " + Math.max(1, (bytes >> 20) / 15 / 60) + " min)");
        return;
      }
      ReportPage.Summary s = ReportPage.write(dir, dir.resolve("report.html"), step -> System.err.println("braid: " + step));
      System.err.println("braid: wrote " + s.path().toAbsolutePath() + " (" + s.spans() + " spans, " + s.samples() + " samples): open it in a browser");
    } catch (IOException | RuntimeException e) {
      System.err.println("braid: no report.html: " + e.getMessage() + " (braid report " + dir + " tries again)");
    }
  }
}
