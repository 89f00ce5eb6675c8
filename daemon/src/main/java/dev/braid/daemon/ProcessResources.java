package dev.braid.daemon;

import dev.braid.correlator.Host;
import dev.braid.correlator.ProcessInfo;
import io.opentelemetry.api.common.Attributes;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Describes each traced process for its resource: {@code service.name} (OTEL_SERVICE_NAME, else
 * the executable's name), the host, the process's container and pod, and the user's
 * OTEL_RESOURCE_ATTRIBUTES, which win over what braid detects, as in the OpenTelemetry SDKs.
 */
final class ProcessResources {
  /** A file seen through another mount namespace's root: the process knows it by the rest. */
  private static final Pattern THROUGH_ROOT = Pattern.compile("^/proc/\\d+/root(?=/)");

  private final Optional<String> serviceName;
  private final Attributes configured;
  private final String hostName = Host.name();

  ProcessResources(DaemonConfig config) {
    this.serviceName = config.serviceName();
    this.configured = config.resourceAttributes();
  }

  ProcessInfo describe(int pid, String executablePath, String defaultServiceName) {
    Attributes attributes = ContainerAttributes.of(pid).toBuilder().putAll(configured).build();
    return new ProcessInfo(pid, THROUGH_ROOT.matcher(executablePath).replaceFirst(""), serviceName.orElse(defaultServiceName), hostName, attributes);
  }
}
