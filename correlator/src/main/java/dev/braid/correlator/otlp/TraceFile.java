package dev.braid.correlator.otlp;

import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProcessInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.exporter.logging.otlp.internal.traces.OtlpStdoutSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code traces.jsonl}: OTLP/JSON, one {@code ExportTraceServiceRequest} per line, the format of
 * the collector's file exporter (IDs in hex). Written by the OpenTelemetry SDK's stdout OTLP
 * exporter (an internal class of opentelemetry-exporter-logging-otlp; the version is pinned in
 * the parent pom and this is the only class that touches it).
 *
 * <p>Owns the file; {@link #close()} flushes and closes it. Not thread-safe.
 */
public final class TraceFile implements AutoCloseable {
  private final Path path;
  private final OutputStream out;
  private final SpanExporter exporter;
  // One Resource object per process: the exporter groups spans by resource.
  private final Map<ProcessInfo, Resource> resources = new HashMap<>();

  public TraceFile(Path path) {
    this.path = path;
    try {
      Files.createDirectories(path.toAbsolutePath().getParent());
      this.out =
          new BufferedOutputStream(
              Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + path, e);
    }
    this.exporter = OtlpStdoutSpanExporter.builder().setOutput(out).setWrapperJsonObject(true).build();
  }

  public Path path() {
    return path;
  }

  /** Appends one line with these spans (nothing for none). */
  public void write(List<CompletedSpan> spans) {
    if (spans.isEmpty()) {
      return;
    }
    List<BraidSpanData> data = new ArrayList<>(spans.size());
    for (CompletedSpan s : spans) {
      data.add(new BraidSpanData(s, resources.computeIfAbsent(s.process(), ProcessInfo::resource)));
    }
    CompletableResultCode result = exporter.export(List.copyOf(data)).join(10, TimeUnit.SECONDS);
    if (!result.isSuccess()) {
      throw new UncheckedIOException(new IOException("writing " + spans.size() + " spans to " + path + " failed"));
    }
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + path, e);
    }
  }

  @Override
  public void close() {
    exporter.shutdown().join(10, TimeUnit.SECONDS);
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("closing " + path, e);
    }
  }
}
