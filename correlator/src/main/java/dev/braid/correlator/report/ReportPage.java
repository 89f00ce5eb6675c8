package dev.braid.correlator.report;

import dev.braid.correlator.otlp.JsonOut;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * report.html: one self-contained page (its data, d3 and d3-flame-graph with their licences
 * embedded; nothing fetched) from a run's files.
 */
public final class ReportPage {
  private static final String WEB = "/dev/braid/correlator/report/";

  private ReportPage() {}

  /**
   * Reads the run in {@code dir} and writes {@code out}; {@code progress} hears of long reads.
   * Returns what the page rests on, for the user.
   */
  public static Summary write(Path dir, Path out, Consumer<String> progress) throws IOException {
    RunFiles files = RunFiles.in(dir);
    boolean large = files.bytes() > PROGRESS_FROM;
    ReportData data = ReportData.read(files, pass -> {
      if (large) {
        progress.accept("reading " + (files.bytes() >> 20) + " MiB of " + dir + ": " + pass);
      }
    });
    if (data.spans() == 0 && data.samples() == 0) {
      throw new IOException("no spans and no samples in " + dir + " (braid writes traces.jsonl and profiles.jsonl there; a collector's file exporter, *.jsonl)");
    }
    JsonOut json = new JsonOut();
    data.write(json);
    // The run's data goes in last: no text of it (a span's name) is taken for a placeholder.
    String page = resource("report.html")
        .replace("<!--BRAID:LICENSES-->", html(resource("web/LICENSE.d3")) + "\n\n" + html(resource("web/LICENSE.d3-flame-graph")))
        .replace("/*BRAID:CSS*/", resource("web/d3-flamegraph.css"))
        .replace("/*BRAID:D3*/", script(resource("web/d3.min.js")))
        .replace("/*BRAID:FLAMEGRAPH*/", script(resource("web/d3-flamegraph.umd.min.js")))
        .replace("/*BRAID:DATA*/", script(json.toString()));
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, page);
    return new Summary(out, data.spans(), data.samples());
  }

  /** Files from this size on get progress reports (a run of some minutes at full load). */
  private static final long PROGRESS_FROM = 64L << 20;

  /** Where the report went and how many spans and samples it shows. */
  public record Summary(Path path, long spans, long samples) {}

  /** Text that sits inside a script element: it must not close it. */
  private static String script(String js) {
    return js.replace("</", "<\\/");
  }

  private static String html(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  private static String resource(String name) {
    try (InputStream in = ReportPage.class.getResourceAsStream(WEB + name)) {
      if (in == null) {
        throw new IllegalStateException(WEB + name + " is not in braid's jar (the build puts it there: correlator/web-assets.sh)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
