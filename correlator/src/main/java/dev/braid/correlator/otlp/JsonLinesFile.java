package dev.braid.correlator.otlp;

import com.google.protobuf.Message;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * A file of OTLP/JSON lines, one export request per line (the collector's file exporter format),
 * such as {@code profiles.jsonl}. Owns the file; not thread-safe.
 */
public final class JsonLinesFile implements AutoCloseable {
  private final Path path;
  private final OutputStream out;
  private final JsonOut json = new JsonOut();

  public JsonLinesFile(Path path) {
    this.path = path;
    try {
      Files.createDirectories(path.toAbsolutePath().getParent());
      this.out =
          new BufferedOutputStream(
              Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE), 1 << 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + path, e);
    }
  }

  public Path path() {
    return path;
  }

  /** Appends {@code request} as one line, and flushes it to the file. */
  public void write(Message request) {
    writeLine(json -> OtlpJson.write(json, request));
  }

  /** Appends the line that {@code body} writes, and flushes it to the file. */
  void writeLine(Consumer<JsonOut> body) {
    json.reset();
    body.accept(json);
    json.raw('\n');
    try {
      json.writeTo(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + path, e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("closing " + path, e);
    }
  }
}
