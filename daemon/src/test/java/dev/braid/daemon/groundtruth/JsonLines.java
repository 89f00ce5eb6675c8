package dev.braid.daemon.groundtruth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Files of one JSON object per line, as the example programs write their ground truth. */
final class JsonLines {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonLines() {}

  static List<JsonNode> read(Path file) {
    try (var lines = Files.lines(file)) {
      return lines.filter(l -> !l.isBlank()).map(l -> {
        try {
          return JSON.readTree(l);
        } catch (IOException e) {
          throw new UncheckedIOException("a line of " + file, e);
        }
      }).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + file, e);
    }
  }
}
