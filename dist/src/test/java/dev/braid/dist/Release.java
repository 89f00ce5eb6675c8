package dev.braid.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The release that {@code dist/release.sh} made in this module's target directory, and what its runs wrote. */
final class Release {
  /** The capabilities braid's container gets: README's, the DaemonSet's, and what ImageIT runs it with. */
  static final List<String> CAPABILITIES = List.of("SYS_ADMIN", "SYS_PTRACE");
  static final String VERSION = System.getProperty("braid.version", "0.1.0-SNAPSHOT");
  static final Path DIR = Path.of(System.getProperty("braid.release.dir", "target"));
  static final String NAME = "braid-" + VERSION + "-linux-amd64";
  static final String IMAGE = "localhost/braid:" + VERSION;

  private Release() {}

  static Path tarball() {
    return DIR.resolve(NAME + ".tar.gz");
  }

  /** Sends one request with a traceparent of the given trace id; the response's status. */
  static int get(String url, String traceId) throws IOException, InterruptedException {
    try (HttpClient client = HttpClient.newHttpClient()) {
      HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01").build();
      return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }
  }

  /** A span braid exported, with its resource's attributes. */
  record ExportedSpan(String traceId, String kind, Map<String, String> resource) {}

  /** The spans of an OTLP/JSON file of braid's ({@code traces.jsonl}). */
  static List<ExportedSpan> spans(Path tracesJsonl) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<ExportedSpan> spans = new ArrayList<>();
    for (String line : Files.readAllLines(tracesJsonl)) {
      for (JsonNode rs : json.readTree(line).path("resourceSpans")) {
        Map<String, String> resource = new HashMap<>();
        for (JsonNode a : rs.path("resource").path("attributes")) {
          JsonNode v = a.path("value");
          resource.put(a.path("key").asText(), v.has("intValue") ? v.path("intValue").asText() : v.path("stringValue").asText());
        }
        for (JsonNode ss : rs.path("scopeSpans")) {
          for (JsonNode s : ss.path("spans")) {
            spans.add(new ExportedSpan(s.path("traceId").asText(), s.path("kind").asText(), resource));
          }
        }
      }
    }
    return spans;
  }

  /** A CPU sample the collector received: the trace of the span it links to (or ""), and its stack's functions. */
  record ProfiledSample(String traceId, List<String> functions) {}

  /** The samples of an OTLP/JSON profiles file ({@code profiles.jsonl}), one per observation, resolved through each line's dictionary. */
  static List<ProfiledSample> samples(Path profilesJsonl) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<ProfiledSample> samples = new ArrayList<>();
    for (String line : Files.readAllLines(profilesJsonl)) {
      JsonNode request = json.readTree(line);
      JsonNode dictionary = request.path("dictionary");
      for (JsonNode p : request.path("resourceProfiles").findValues("profiles")) {
        for (JsonNode profile : p) {
          for (JsonNode s : profile.path("samples")) {
            int link = s.path("linkIndex").asInt(0);
            String traceId = link == 0 ? "" : dictionary.path("linkTable").get(link).path("traceId").asText();
            List<String> functions = new ArrayList<>();
            for (JsonNode location : dictionary.path("stackTable").get(s.path("stackIndex").asInt()).path("locationIndices")) {
              for (JsonNode l : dictionary.path("locationTable").get(location.asInt()).path("lines")) {
                JsonNode function = dictionary.path("functionTable").get(l.path("functionIndex").asInt());
                functions.add(dictionary.path("stringTable").get(function.path("nameStrindex").asInt()).asText());
              }
            }
            for (int i = 0; i < Math.max(1, s.path("timestampsUnixNano").size()); i++) {
              samples.add(new ProfiledSample(traceId, functions));
            }
          }
        }
      }
    }
    return samples;
  }

  /** The one server span of a trace. */
  static ExportedSpan serverSpan(List<ExportedSpan> spans, String traceId) {
    List<ExportedSpan> of = spans.stream().filter(s -> s.traceId().equals(traceId) && (s.kind().equals("2") || s.kind().equals("SPAN_KIND_SERVER"))).toList();
    assertThat(of).as("server spans of trace %s", traceId).hasSize(1);
    return of.getFirst();
  }
}
