package dev.braid.daemon;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code container.id} and {@code k8s.pod.uid} of a process, from the cgroup it runs in: every
 * container runtime names the container's cgroup after its 64-hex id (Docker's
 * {@code /docker/ID}, containerd's {@code cri-containerd-ID.scope}, CRI-O's {@code crio-ID.scope},
 * Podman's {@code libpod-ID.scope}), and the kubelet names the pod's after its uid
 * ({@code pod<uid>}, with '_' for '-' under the systemd driver). A process in no container gets
 * neither.
 */
final class ContainerAttributes {
  /** A 64-hex id as a whole path segment or its end ({@code libpod-ID.scope/container} too). */
  private static final Pattern CONTAINER_ID = Pattern.compile("(?<![0-9a-f])([0-9a-f]{64})(?=\\.scope|/|$)");
  private static final Pattern POD_UID =
      Pattern.compile("pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?=\\.slice|/|$)");

  private ContainerAttributes() {}

  /** Of a running process; none when it is in no container, or gone. */
  static Attributes of(int pid) {
    try {
      return parse(Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup")));
    } catch (IOException e) {
      return Attributes.empty();
    }
  }

  /** From the text of {@code /proc/PID/cgroup} (cgroup v1 or v2). */
  static Attributes parse(String cgroups) {
    AttributesBuilder attributes = Attributes.builder();
    for (String line : cgroups.split("\n")) {
      // hierarchy-ID:controllers:path; the innermost id on the path is the container's
      String path = line.substring(line.indexOf(':', line.indexOf(':') + 1) + 1).strip();
      Matcher id = CONTAINER_ID.matcher(path);
      while (id.find()) {
        attributes.put("container.id", id.group(1));
      }
      Matcher pod = POD_UID.matcher(path);
      if (pod.find()) {
        attributes.put("k8s.pod.uid", pod.group(1).replace('_', '-'));
      }
    }
    return attributes.build();
  }
}
