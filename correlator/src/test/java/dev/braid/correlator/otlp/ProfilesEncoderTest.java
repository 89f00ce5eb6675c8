package dev.braid.correlator.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.ProfiledSample;
import dev.braid.profiler.Line;
import dev.braid.profiler.Location;
import dev.braid.profiler.Mapping;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Link;
import io.opentelemetry.proto.profiles.v1development.Profile;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.Sample;
import io.opentelemetry.proto.profiles.v1development.Stack;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** OTLP profiles as opentelemetry-proto 1.11 defines them, read back from the wire format. */
class ProfilesEncoderTest {
  private static final ProcessInfo SHOP = new ProcessInfo(4242, "/srv/shop", "shop", "host-1");
  private static final ProcessInfo CART = new ProcessInfo(4343, "/srv/cart", "cart", "host-1");
  private static final Mapping SHOP_TEXT = new Mapping(0x400000, 0x800000, 0, "/srv/shop", "b01d");
  private static final Location BURN =
      new Location(
          0x401010,
          SHOP_TEXT,
          List.of(new Line("main.churn", "/src/shop/main.go", 90), new Line("main.priceCart", "/src/shop/main.go", 70)),
          Location.Kind.GO);
  private static final Location HANDLER = new Location(0x402020, SHOP_TEXT, List.of(new Line("main.main.func1", "/src/shop/main.go", 33)), Location.Kind.GO);
  private static final Location KERNEL = new Location(0xffffffff81000000L, Mapping.KERNEL, List.of(new Line("do_syscall_64", "", 0)), Location.Kind.KERNEL);
  private static final TraceContext CTX = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8");

  private static ProfiledSample sample(ProcessInfo p, long t, Optional<TraceContext> ctx, Location... stack) {
    return new ProfiledSample(p, 7, t, ctx, Optional.empty(), List.of(stack));
  }

  private final ExportProfilesServiceRequest request =
      roundTrip(
          new ProfilesEncoder(99)
              .encode(
                  List.of(
                      sample(SHOP, 1_100, Optional.of(CTX), BURN, HANDLER),
                      sample(SHOP, 1_200, Optional.of(CTX), BURN, HANDLER),
                      sample(SHOP, 1_300, Optional.empty(), BURN, HANDLER),
                      sample(CART, 1_400, Optional.empty(), KERNEL, HANDLER)),
                  1_000,
                  11_000));
  private final ProfilesDictionary dictionary = request.getDictionary();

  private static ExportProfilesServiceRequest roundTrip(ExportProfilesServiceRequest r) {
    try {
      return ExportProfilesServiceRequest.parseFrom(r.toByteArray());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void everyTableStartsWithItsZeroValue() {
    assertThat(dictionary.getStringTable(0)).isEmpty();
    assertThat(dictionary.getMappingTable(0)).isEqualTo(io.opentelemetry.proto.profiles.v1development.Mapping.getDefaultInstance());
    assertThat(dictionary.getLocationTable(0)).isEqualTo(io.opentelemetry.proto.profiles.v1development.Location.getDefaultInstance());
    assertThat(dictionary.getFunctionTable(0)).isEqualTo(Function.getDefaultInstance());
    assertThat(dictionary.getAttributeTable(0)).isEqualTo(KeyValueAndUnit.getDefaultInstance());
    assertThat(dictionary.getStackTable(0)).isEqualTo(Stack.getDefaultInstance());
    assertThat(dictionary.getLinkTable(0).getTraceId()).isEqualTo(ByteString.copyFrom(new byte[16]));
    assertThat(dictionary.getLinkTable(0).getSpanId()).isEqualTo(ByteString.copyFrom(new byte[8]));
    // No duplicates: each string once.
    assertThat(dictionary.getStringTableList()).doesNotHaveDuplicates();
  }

  @Test
  void oneProfilePerProcessWithItsResource() {
    assertThat(request.getResourceProfilesList()).hasSize(2);
    Map<String, String> shop =
        request.getResourceProfiles(0).getResource().getAttributesList().stream()
            .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().hasIntValue() ? Long.toString(kv.getValue().getIntValue()) : kv.getValue().getStringValue()));
    assertThat(shop)
        .containsEntry("service.name", "shop")
        .containsEntry("process.pid", "4242")
        .containsEntry("process.executable.name", "shop")
        .containsEntry("host.name", "host-1");
    Profile profile = request.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0);
    assertThat(string(profile.getSampleType().getTypeStrindex())).isEqualTo("samples");
    assertThat(string(profile.getSampleType().getUnitStrindex())).isEqualTo("count");
    assertThat(string(profile.getPeriodType().getTypeStrindex())).isEqualTo("cpu");
    assertThat(string(profile.getPeriodType().getUnitStrindex())).isEqualTo("nanoseconds");
    assertThat(profile.getPeriod()).isEqualTo(1_000_000_000L / 99);
    assertThat(profile.getTimeUnixNano()).isEqualTo(1_000);
    assertThat(profile.getDurationNano()).isEqualTo(10_000);
  }

  @Test
  void samplesOfOneStackAndSpanAreOneSampleWithATimestampEach() {
    List<Sample> samples = request.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0).getSamplesList();
    assertThat(samples).hasSize(2);
    Sample inSpan = samples.get(0);
    assertThat(inSpan.getTimestampsUnixNanoList()).containsExactly(1_100L, 1_200L);
    assertThat(inSpan.getValuesList()).containsExactly(1L, 1L);
    Link link = dictionary.getLinkTable(inSpan.getLinkIndex());
    assertThat(HexFormat.of().formatHex(link.getTraceId().toByteArray())).isEqualTo(CTX.traceId());
    assertThat(HexFormat.of().formatHex(link.getSpanId().toByteArray())).isEqualTo(CTX.spanId());
    Sample outside = samples.get(1);
    assertThat(outside.getLinkIndex()).isZero();
    assertThat(outside.getStackIndex()).isEqualTo(inSpan.getStackIndex());
    assertThat(outside.getTimestampsUnixNanoList()).containsExactly(1_300L);
  }

  @Test
  void stacksAreLeafFirstWithInlinedFramesInOneLocation() {
    Sample s = request.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0).getSamples(0);
    List<Integer> locations = dictionary.getStackTable(s.getStackIndex()).getLocationIndicesList();
    assertThat(locations).hasSize(2);
    var leaf = dictionary.getLocationTable(locations.get(0));
    assertThat(leaf.getAddress()).isEqualTo(0x401010);
    assertThat(leaf.getLinesList()).extracting(l -> string(dictionary.getFunctionTable(l.getFunctionIndex()).getNameStrindex()))
        .containsExactly("main.churn", "main.priceCart");
    assertThat(leaf.getLinesList()).extracting(io.opentelemetry.proto.profiles.v1development.Line::getLine).containsExactly(90L, 70L);
    assertThat(string(dictionary.getFunctionTable(leaf.getLines(0).getFunctionIndex()).getFilenameStrindex())).isEqualTo("/src/shop/main.go");
    assertThat(attributes(leaf.getAttributeIndicesList())).containsEntry("profile.frame.type", "go");
    var mapping = dictionary.getMappingTable(leaf.getMappingIndex());
    assertThat(mapping.getMemoryStart()).isEqualTo(0x400000);
    assertThat(mapping.getMemoryLimit()).isEqualTo(0x800000);
    assertThat(string(mapping.getFilenameStrindex())).isEqualTo("/srv/shop");
    assertThat(attributes(mapping.getAttributeIndicesList())).containsEntry("process.executable.build_id.gnu", "b01d");
    // The handler frame is shared by both processes' stacks: one location, one function.
    Sample cart = request.getResourceProfiles(1).getScopeProfiles(0).getProfiles(0).getSamples(0);
    List<Integer> cartStack = dictionary.getStackTable(cart.getStackIndex()).getLocationIndicesList();
    assertThat(cartStack.get(1)).isEqualTo(locations.get(1));
    assertThat(attributes(dictionary.getLocationTable(cartStack.get(0)).getAttributeIndicesList())).containsEntry("profile.frame.type", "kernel");
  }

  @Test
  void theJsonLineSpellsIdsInHexAndNamesInCamelCase() throws Exception {
    JsonNode json = new ObjectMapper().readTree(OtlpJson.print(request));
    JsonNode link = json.get("dictionary").get("linkTable").get(1);
    assertThat(link.get("traceId").asText()).isEqualTo(CTX.traceId());
    assertThat(link.get("spanId").asText()).isEqualTo(CTX.spanId());
    assertThat(json.get("dictionary").get("stringTable").get(0).asText()).isEmpty();
    assertThat(json.get("dictionary").get("mappingTable").get(0).isEmpty()).isTrue();
    JsonNode profile = json.get("resourceProfiles").get(0).get("scopeProfiles").get(0).get("profiles").get(0);
    assertThat(profile.get("samples").get(0).get("timestampsUnixNano").get(0).asText()).isEqualTo("1100");
    assertThat(profile.get("period").asText()).isEqualTo(Long.toString(1_000_000_000L / 99));
    JsonNode pid = null;
    for (JsonNode a : json.get("resourceProfiles").get(0).get("resource").get("attributes")) {
      pid = a.get("key").asText().equals("process.pid") ? a.get("value") : pid;
    }
    assertThat(pid.get("intValue").asText()).isEqualTo("4242");
  }

  private String string(int index) {
    return dictionary.getStringTable(index);
  }

  private Map<String, String> attributes(List<Integer> indices) {
    return indices.stream()
        .map(dictionary::getAttributeTable)
        .collect(Collectors.toMap(a -> string(a.getKeyStrindex()), a -> a.getValue().getStringValue()));
  }
}
