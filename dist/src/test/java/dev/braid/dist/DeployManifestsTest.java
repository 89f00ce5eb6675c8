package dev.braid.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.braid.bpf.testing.Kernel;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/: every Kubernetes object is valid against the API's schema (field names, required
 * fields, types), the DaemonSet has what braid needs and points at the collector's Service, the
 * collector's pipelines run k8sattributes on braid's spans and profiles, and the systemd unit
 * passes systemd's own check.
 */
class DeployManifestsTest {
  private static final Path DEPLOY = Path.of(System.getProperty("maven.multiModuleProjectDirectory", ".."), "deploy");
  private static final YAMLMapper YAML = new YAMLMapper();

  /** Each kind's validator, generated from the Kubernetes OpenAPI schema. */
  private interface Validator {
    void validate(JsonElement object) throws IOException;
  }

  private static final Map<String, Validator> SCHEMAS = Map.of(
      "v1/Namespace", V1Namespace::validateJsonElement,
      "v1/ServiceAccount", V1ServiceAccount::validateJsonElement,
      "v1/ConfigMap", V1ConfigMap::validateJsonElement,
      "v1/Service", V1Service::validateJsonElement,
      "apps/v1/DaemonSet", V1DaemonSet::validateJsonElement,
      "apps/v1/Deployment", V1Deployment::validateJsonElement,
      "rbac.authorization.k8s.io/v1/ClusterRole", V1ClusterRole::validateJsonElement,
      "rbac.authorization.k8s.io/v1/ClusterRoleBinding", V1ClusterRoleBinding::validateJsonElement);

  private static List<JsonNode> objects(String file) throws IOException {
    try (var parser = YAML.createParser(DEPLOY.resolve("kubernetes").resolve(file).toFile())) {
      List<JsonNode> docs = new ArrayList<>();
      YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
      return docs;
    }
  }

  private static void validate(JsonNode object) throws IOException {
    String type = object.path("apiVersion").asText() + "/" + object.path("kind").asText();
    assertThat(SCHEMAS).as("a schema for %s", type).containsKey(type);
    SCHEMAS.get(type).validate(JsonParser.parseString(new ObjectMapper().writeValueAsString(object)));
  }

  private static JsonNode only(List<JsonNode> objects, String kind) {
    return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).reduce((a, b) -> {
      throw new AssertionError("more than one " + kind);
    }).orElseThrow(() -> new AssertionError("no " + kind));
  }

  @Test
  void everyObjectIsValidAgainstTheKubernetesSchema() throws IOException {
    List<JsonNode> all = new ArrayList<>(objects("braid.yaml"));
    all.addAll(objects("collector.yaml"));
    for (JsonNode object : all) {
      validate(object);
    }
    assertThat(all).hasSize(9);
  }

  /** The check can fail: a misspelt field, and a container without its required name. */
  @Test
  void theSchemaRefusesAMisspeltOrMissingField() throws IOException {
    JsonNode daemonSet = only(objects("braid.yaml"), "DaemonSet").deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) daemonSet.path("spec").path("template").path("spec")).put("hostPid", true);
    assertThatThrownBy(() -> validate(daemonSet)).hasMessageContaining("hostPid");
    JsonNode nameless = only(objects("braid.yaml"), "DaemonSet").deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) nameless.path("spec").path("template").path("spec").path("containers").get(0)).remove("name");
    assertThatThrownBy(() -> validate(nameless)).hasMessageContaining("name");
  }

  @Test
  void theDaemonSetHasWhatBraidNeedsAndExportsToTheCollectorsService() throws IOException {
    List<JsonNode> braid = objects("braid.yaml");
    JsonNode pod = only(braid, "DaemonSet").path("spec").path("template").path("spec");
    assertThat(pod.path("hostPID").asBoolean()).as("hostPID").isTrue();
    JsonNode container = pod.path("containers").get(0);
    assertThat(container.path("image").asText()).endsWith("/braid:" + Release.VERSION);
    JsonNode security = container.path("securityContext");
    assertThat(security.path("privileged").asBoolean()).as("privileged").isFalse();
    assertThat(StreamSupport.stream(security.path("capabilities").path("add").spliterator(), false).map(JsonNode::asText))
        .as("the capabilities ImageIT runs the image with").containsExactlyInAnyOrderElementsOf(Release.CAPABILITIES);
    assertThat(StreamSupport.stream(security.path("capabilities").path("drop").spliterator(), false).map(JsonNode::asText)).containsExactly("ALL");
    assertThat(container.path("resources").path("limits").has("memory")).isTrue();
    String bpffsVolume = StreamSupport.stream(pod.path("volumes").spliterator(), false)
        .filter(v -> v.path("hostPath").path("path").asText().equals("/sys/fs/bpf")).findFirst().orElseThrow().path("name").asText();
    assertThat(container.path("volumeMounts").findValuesAsText("mountPath")).contains("/sys/fs/bpf");
    assertThat(StreamSupport.stream(container.path("volumeMounts").spliterator(), false)
        .anyMatch(m -> m.path("name").asText().equals(bpffsVolume) && m.path("mountPath").asText().equals("/sys/fs/bpf"))).isTrue();

    List<String> args = texts(container.path("args"));
    assertThat(args).startsWith("run").contains("--no-files");
    Pattern exclude = Pattern.compile(args.stream().filter(a -> a.startsWith("--exclude=")).findFirst().orElseThrow().substring("--exclude=".length()));
    assertThat(List.of("/usr/bin/kubelet", "/usr/local/bin/containerd-shim-runc-v2", "coredns", "/otelcol-contrib")).allMatch(p -> exclude.matcher(p).find());
    assertThat(List.of("/app/shop", "/usr/local/bin/checkout-service", "/srv/kubelet-proxy-demo")).noneMatch(p -> exclude.matcher(p).find());

    Map<String, String> env = new java.util.HashMap<>();
    container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
    assertThat(env.get("OTEL_RESOURCE_ATTRIBUTES")).contains("k8s.node.name=$(NODE_NAME)");
    URI endpoint = URI.create(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"));
    JsonNode service = only(objects("collector.yaml"), "Service");
    assertThat(endpoint.getHost()).startsWith(service.path("metadata").path("name").asText() + "." + service.path("metadata").path("namespace").asText() + ".svc");
    assertThat(service.path("spec").path("ports").findValuesAsText("port")).contains(Integer.toString(endpoint.getPort()));
    assertThat(env.get("OTEL_EXPORTER_OTLP_PROTOCOL")).isEqualTo("grpc");
  }

  @Test
  void theCollectorRunsK8sattributesOnBraidsSpansAndProfiles() throws IOException {
    JsonNode config = YAML.readTree(only(objects("collector.yaml"), "ConfigMap").path("data").path("config.yaml").asText());
    JsonNode k8s = config.path("processors").path("k8sattributes");
    assertThat(k8s.path("pod_association").findValuesAsText("name")).containsExactly("k8s.pod.uid"); // braid sets it from the cgroup
    assertThat(texts(k8s.path("extract").path("metadata"))).contains("k8s.namespace.name", "k8s.pod.name", "k8s.container.name");
    JsonNode pipelines = config.path("service").path("pipelines");
    List<String> names = new ArrayList<>();
    pipelines.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactlyInAnyOrder("traces", "profiles");
    for (JsonNode pipeline : pipelines) {
      assertThat(texts(pipeline.path("processors"))).contains("k8sattributes");
      for (String section : List.of("receivers", "processors", "exporters")) {
        pipeline.path(section).forEach(name -> assertThat(config.path(section).has(name.asText())).as("%s %s is defined", section, name.asText()).isTrue());
      }
    }
    JsonNode deployment = only(objects("collector.yaml"), "Deployment").path("spec").path("template").path("spec").path("containers").get(0);
    assertThat(texts(deployment.path("args"))).contains("--feature-gates=service.profilesSupport");
  }

  @Test
  void theSystemdUnitPassesSystemdsCheck(@TempDir Path dir) throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    if (!Files.isExecutable(analyze)) {
      Kernel.skipOrFail("systemd-analyze is not installed: apt-get install systemd (./braid test installs it)");
    }
    // It checks that ExecStart's program exists: the release's launcher stands in for /opt/braid.
    Path launcher = DEPLOY.getParent().resolve("dist/bin/braid").toAbsolutePath();
    String unit = Files.readString(DEPLOY.resolve("systemd/braid.service")).replace("/opt/braid/bin/braid", launcher.toString());
    String misspelt = unit.replace("Restart=on-failure", "Restart=on-failure\nRestartSecs=5s");
    assertThat(misspelt).isNotEqualTo(unit);
    for (String text : List.of(unit, misspelt)) {
      Path file = dir.resolve("braid.service");
      Files.writeString(file, text);
      Process p = new ProcessBuilder(analyze.toString(), "verify", "--man=no", file.toString()).redirectErrorStream(true).start();
      String said = new String(p.getInputStream().readAllBytes()).strip();
      p.waitFor();
      if (text == unit) {
        assertThat(said).as("systemd-analyze verify").isEmpty();
      } else {
        assertThat(said).as("a misspelt key is reported").contains("RestartSecs");
      }
    }
  }

  private static List<String> texts(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }
}
