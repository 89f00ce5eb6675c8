package dev.braid.correlator;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.resources.Resource;

/**
 * A traced process, as its telemetry's resource describes it.
 *
 * @param serviceName {@code service.name}: the executable's name unless configured
 * @param attributes its container's, and the user's (OTEL_RESOURCE_ATTRIBUTES), over the others
 */
public record ProcessInfo(int pid, String executablePath, String serviceName, String hostName, Attributes attributes) {

  public ProcessInfo(int pid, String executablePath, String serviceName, String hostName) {
    this(pid, executablePath, serviceName, hostName, Attributes.empty());
  }

  /** The OpenTelemetry resource of this process's spans and profiles (made anew at each call). */
  public Resource resource() {
    String exe = executablePath.substring(executablePath.lastIndexOf('/') + 1);
    return Resource.create(
        Attributes.builder()
            .put("service.name", serviceName)
            .put("process.pid", (long) pid)
            .put("process.executable.name", exe)
            .put("process.executable.path", executablePath)
            .put("host.name", hostName)
            .put("telemetry.sdk.name", "braid")
            .put("telemetry.sdk.language", "go")
            .putAll(attributes)
            .build());
  }
}
