package dev.braid.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.TracesContextMap;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.bpf.testing.Wait;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/** {@code braid run} as a user runs it: a separate JVM, its exit code, stdout and stderr. */
@Tag("kernel")
class CliTest {
  private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

  record Result(int exit, String stdout, String stderr) {}

  /** As the launchers run it: they name where the example programs are. */
  private static List<String> braid(String... args) {
    List<String> cmd = braidWithoutExamples(args);
    cmd.add(3, "-Dbraid.examples.bin=" + Examples.bin());
    return cmd;
  }

  private static List<String> braidWithoutExamples(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BraidCli.class.getName()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static Result run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out, err);
  }

  @Test
  void everyCommandHasHelp() throws Exception {
    for (String command : new String[] {"run", "demo", "report", "doctor", "conformance"}) {
      Result r = run(braid(command, "--help"));
      assertThat(r.exit()).as(command + " --help").isZero();
      assertThat(r.stdout()).as(command + " --help").startsWith("Usage: braid " + command).contains("-h, --help");
    }
  }

  @Test
  void conformanceWithARunningWriterButNoExeSaysWhatToCopy() throws Exception {
    Result r = run(braid("conformance", "--running-writer"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains("braid: --running-writer needs --exe: copy ").contains("/shop to where the running writer looks");
  }

  @Test
  void theExampleProgramsNamedNowhereAreExit2WithTheFix() throws Exception {
    Result r = run(braidWithoutExamples("demo"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains("braid: where are the example programs? pass --examples DIR");

    Result missing = run(braid("conformance", "--examples", "/nonexistent", "--writer-cmd", "true"));
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.stderr()).contains("braid: /nonexistent/shop is missing: build the examples first (./braid build), or pass --examples DIR");
  }

  @Test
  void aReportOfNothingIsExit2WithWhatItLookedFor(@TempDir Path empty) throws Exception {
    Result none = run(braid("report", empty.resolve("nonexistent").toString()));
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.stderr()).contains("is not a directory: give the --out directory of a braid run");
    Result nothing = run(braid("report", empty.toString()));
    assertThat(nothing.exit()).isEqualTo(2);
    assertThat(nothing.stderr()).contains("no spans and no samples in " + empty);
    Files.writeString(empty.resolve("traces.jsonl"), "{\"resourceSpans\":[{\"oops\n");
    Result broken = run(braid("report", empty.toString()));
    assertThat(broken.exit()).isEqualTo(2);
    assertThat(broken.stderr()).contains("traces.jsonl:1 is no OTLP/JSON export request");
  }

  @Test
  void noFilesWithoutAnEndpointIsExit2WithTheFix(@TempDir Path out) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(braid("run", "--no-files", "--out", out.toString(), "--duration", "1s"));
    pb.environment().remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    Process p = pb.start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(err).contains("braid: --no-files keeps nothing without an OTLP endpoint: add --otlp-endpoint URL");
  }

  @Test
  void aMissingExecutableIsExit2WithItsName(@TempDir Path out) throws Exception {
    Result r = run(braid("run", "--exe", "/nonexistent/shop", "--out", out.toString(), "--duration", "1s"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains("braid: cannot trace /nonexistent/shop: no such file");
    assertThat(r.stdout()).doesNotContain("ready");
  }

  @Test
  void aFileThatIsNotElfIsExit2(@TempDir Path dir) throws Exception {
    Path text = Files.writeString(dir.resolve("service.sh"), "#!/bin/sh\necho hi\n");
    Result r = run(braid("run", "--exe", text.toString(), "--out", dir.resolve("out").toString(), "--duration", "1s"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains("braid: cannot trace " + text + ": not an ELF executable");
  }

  @Test
  void aProgramThatIsNotGoIsExit2(@TempDir Path out) throws Exception {
    Result r = run(braid("run", "--exe", "/bin/true", "--out", out.toString(), "--duration", "1s"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains("not a Go program");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "--mode=sideways|Invalid value for option '--mode'",
        "--ctx-source=guess|Invalid value for option '--ctx-source'",
        "--mode=reader --ctx-source=sample|--ctx-source sample needs braid's tracer",
        "--mode=writer --auto-sdk|--auto-sdk exports the program's spans and links its samples to them, which needs all of braid: drop --mode writer",
        "--exclude=grpc|--exclude narrows the whole host's processes, but --exe traces only ",
        "--otlp-endpoint=ftp://collector:4317|OTLP endpoint must be an http:// or https:// URL",
        "--otlp-endpoint=http://collector:4318 --otlp-protocol=thrift|OTLP protocol must be grpc or http/protobuf, not 'thrift'",
        "--metrics-addr=localhost|--metrics-addr must be HOST:PORT or :PORT, not 'localhost'",
        "--log-format=xml|--log-format must be logfmt or json, not 'xml'",
        "--log-level=loud|--log-level must be error, warn, info, debug or trace, not 'loud'",
        "--span-buffer=lots|is not a size such as 64K, 8M or 1G",
        "--span-buffer=100K|--span-buffer must be a power of two from 4K up (4K, 64K, 8M, 64M), not 102400 bytes",
        "--span-buffer=2G|is more than braid can take (at most 1G)"
      })
  void badOptionsAreExit2WithWhatIsAccepted(String options, String message, @TempDir Path out) throws Exception {
    List<String> args = new ArrayList<>(List.of("run", "--exe", Examples.binary("shop").toString(), "--out", out.toString(), "--duration", "1s"));
    args.addAll(List.of(options.split(" ")));
    Result r = run(braid(args.toArray(String[]::new)));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains(message);
    assertThat(r.stdout()).doesNotContain("ready");
  }

  @Test
  void noBpffsAtThePinPathIsExit2WithDoctorsFix(@TempDir Path notBpffs) throws Exception {
    Result r = run(braid("run", "--exe", Examples.binary("shop").toString(), "--pin-path", notBpffs.toString(), "--duration", "1s", "--out", notBpffs.resolve("o").toString()));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains("FAIL  bpffs: " + notBpffs + " is on ").contains(", not bpffs").contains("fix: mount -t bpf bpf " + notBpffs);
  }

  @Test
  void noPrivilegesIsExit2WithDoctorsFix(@TempDir Path out) throws Exception {
    // Root without any capability: what a container without CAP_BPF looks like.
    List<String> cmd = new ArrayList<>(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all"));
    cmd.addAll(braid("run", "--exe", Examples.binary("shop").toString(), "--out", out.toString(), "--duration", "1s"));
    Result r = run(cmd);
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.stderr()).contains("FAIL  privileges: no BPF privileges").contains("fix: run as root")
        .contains("FAIL  other processes: no CAP_SYS_PTRACE");
  }

  @Test
  void aForeignPinIsRefusedByItsDifferencesAndLeftAlone(@TempDir Path out) throws Exception {
    Kernel.requireBpf();
    try (PinRoot pins = PinRoot.create();
        BpfObject foreign = BpfObject.openResource("/bpf/test_foreign_pin.bpf.o")) {
      foreign.load();
      Path pin = TracesContextMap.pinPath(pins.path());
      Files.createDirectory(pin.getParent());
      foreign.map("traces_ctx_v1").pin(pin);
      int id = foreign.map("traces_ctx_v1").info().id();

      Result r = run(braid("run", "--exe", Examples.binary("shop").toString(), "--pin-path", pins.path().toString(), "--out", out.toString(), "--duration", "1s"));
      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.stderr())
          .contains("the map pinned at " + pin + " is not traces_ctx_v1")
          .contains("type hash (want lru_hash)")
          .contains("value size 16 (want 24)")
          .contains("max_entries 4096 (want 16384)");
      try (BpfMap still = BpfMap.openPinned(pin).orElseThrow()) {
        assertThat(still.info().id()).isEqualTo(id);
      }
    }
  }

  @Test
  void readyThenSigtermFlushesEverythingAndLeavesNoEntry(@TempDir Path out) throws Exception {
    Kernel.requireBpf();
    try (PinRoot pins = PinRoot.create();
        ExampleService shop = ExampleService.start(Examples.binary("shop"), "-addr", "127.0.0.1:0")) {
      Process braid =
          new ProcessBuilder(braid("run", "--exe", Examples.binary("shop").toString(), "--pin-path", pins.path().toString(), "--out", out.toString()))
              .redirectError(out.resolve("stderr.txt").toFile())
              .start();
      BufferedReader stdout = new BufferedReader(new InputStreamReader(braid.getInputStream(), StandardCharsets.UTF_8));
      assertThat(stdout.readLine()).isEqualTo("ready");

      HttpClient http = HttpClient.newHttpClient();
      HttpRequest req =
          HttpRequest.newBuilder(URI.create(shop.url() + "/search?ms=2")).header("traceparent", "00-" + TRACE_ID + "-b7ad6b7169203331-01").build();
      assertThat(http.send(req, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      // A request still in flight when braid stops (it burns until released): its thread shows its span right then.
      var held = http.sendAsync(HttpRequest.newBuilder(URI.create(shop.url() + "/hold?key=sigterm")).build(), HttpResponse.BodyHandlers.ofString());
      try (BpfMap pinned = TracesContextMap.openPinned(pins.path()).orElseThrow()) {
        assertThat(Wait.until(Duration.ofSeconds(30), Duration.ofMillis(5), () -> pinned.keys().stream().anyMatch(k -> TracesContextMap.keyValue(k) >>> 32 == shop.pid())))
            .as("an entry of the held request").isTrue();
      }

      braid.destroy(); // SIGTERM
      assertThat(braid.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(braid.exitValue()).as(Files.readString(out.resolve("stderr.txt"))).isIn(0, 143);
      assertThat(held).as("the held request, while braid stopped").isNotDone();
      assertThat(http.send(HttpRequest.newBuilder(URI.create(shop.url() + "/release?key=sigterm")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);

      // The finished request's span reached the file before exit, and so did the one in flight,
      // ended by braid when it stopped.
      List<JsonNode> spans = spans(out.resolve("traces.jsonl"));
      assertThat(spans).hasSize(2);
      assertThat(spans.getFirst().get("traceId").asText()).isEqualTo(TRACE_ID);
      assertThat(spans.getFirst().get("parentSpanId").asText()).isEqualTo("b7ad6b7169203331");
      assertThat(spans.get(1).toString()).contains("finished_by_braid");
      assertThat(held.get().statusCode()).isEqualTo(200); // the service never noticed
      // A run stopped by a signal still leaves its report, which shows both spans.
      assertThat(Files.readString(out.resolve("stderr.txt"))).contains("braid: wrote " + out.resolve("report.html").toAbsolutePath() + " (2 spans");
      assertThat(Files.readString(out.resolve("report.html"))).contains(TRACE_ID);
      // The pin stays (another reader may hold it), with no entry of the shop in it.
      try (BpfMap pinned = TracesContextMap.openPinned(pins.path()).orElseThrow()) {
        assertThat(pinned.keys()).noneMatch(k -> TracesContextMap.keyValue(k) >>> 32 == shop.pid());
      }
    }
  }

  @Test
  void durationStopsBraidByItself(@TempDir Path out) throws Exception {
    Kernel.requireBpf();
    try (PinRoot pins = PinRoot.create()) {
      Result r = run(braid("run", "--exe", Examples.binary("shop").toString(), "--pin-path", pins.path().toString(), "--out", out.toString(), "--duration", "2s"));
      assertThat(r.exit()).as(r.stderr()).isZero();
      assertThat(r.stdout()).isEqualTo("ready\n");
      assertThat(out.resolve("traces.jsonl")).exists();
    }
  }

  /**
   * The README's first command: both example services traced, every RPC the gRPC load sent is a
   * span of its method in the summary (nothing lost), and the files are written.
   */
  @Test
  void theDemoShowsTheHttpRoutesAndEveryRpc(@TempDir Path out) throws Exception {
    Kernel.requireBpf();
    Path bin = Examples.binary("grpcshop").getParent();
    for (String example : List.of("shop", "loadgen", "grpcload")) {
      Examples.binary(example);
    }
    try (PinRoot pins = PinRoot.create()) {
      Result r = run(braid("demo", "--duration", "4s", "--examples", bin.toString(), "--pin-path", pins.path().toString(), "--out", out.toString()));
      assertThat(r.exit()).as(r.stderr()).isZero();
      Map<String, Integer> sent = new TreeMap<>();
      for (String line : Files.readAllLines(out.resolve("rpcs.jsonl"))) {
        sent.merge(new ObjectMapper().readTree(line).get("route").asText().substring(1), 1, Integer::sum);
      }
      assertThat(sent).containsOnlyKeys("braid.shop.Orders/Checkout", "braid.shop.Orders/ListItems", "braid.shop.Orders/Fail");
      sent.forEach((method, n) -> assertThat(r.stdout()).containsPattern("(?m)^  " + Pattern.quote(method) + " +" + n + "$"));
      assertThat(r.stdout()).containsPattern("(?m)^  GET /checkout +\\d+$").containsPattern("(?m)^    +\\d+\\.\\d%  main\\.priceOrder$");
      assertThat(out.resolve("requests.jsonl")).isNotEmptyFile();
      try (Stream<Path> pprof = Files.list(out.resolve("pprof"))) {
        assertThat(pprof.map(p -> p.getFileName().toString().replaceAll("-\\d+-\\d+\\.pb\\.gz$", ""))).contains("shop", "grpcshop");
      }
    }
  }

  private static List<JsonNode> spans(Path traces) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> spans = new ArrayList<>();
    for (String line : Files.readAllLines(traces)) {
      for (JsonNode rs : json.readTree(line).get("resourceSpans")) {
        for (JsonNode ss : rs.get("scopeSpans")) {
          ss.get("spans").forEach(spans::add);
        }
      }
    }
    return spans;
  }
}
