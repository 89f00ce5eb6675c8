package dev.braid.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import org.junit.jupiter.api.Test;

/** /proc/PID/cgroup as each container runtime and the kubelet's cgroup drivers write it. */
class ContainerAttributesTest {
  private static final String ID = "2b2ab9ef5c4a0e3b1f6b8b4e8d8f0a4f0c1a3d6c9e2b7f1a0d5c8e3b6a9f2c41";
  private static final AttributeKey<String> CONTAINER = AttributeKey.stringKey("container.id");
  private static final AttributeKey<String> POD = AttributeKey.stringKey("k8s.pod.uid");

  @Test
  void kubeletWithTheSystemdDriverAndContainerdOnCgroupV2() {
    Attributes a = ContainerAttributes.parse("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod4f0bd6a2_1c3e_4d9b_9a57_0b2f3c4d5e6f.slice/cri-containerd-" + ID + ".scope\n");
    assertThat(a.get(CONTAINER)).isEqualTo(ID);
    assertThat(a.get(POD)).isEqualTo("4f0bd6a2-1c3e-4d9b-9a57-0b2f3c4d5e6f");
  }

  @Test
  void kubeletWithTheCgroupfsDriverOnCgroupV1() {
    Attributes a = ContainerAttributes.parse("12:pids:/kubepods/besteffort/pod4f0bd6a2-1c3e-4d9b-9a57-0b2f3c4d5e6f/" + ID + "\n11:memory:/kubepods/besteffort/pod4f0bd6a2-1c3e-4d9b-9a57-0b2f3c4d5e6f/" + ID + "\n");
    assertThat(a.get(CONTAINER)).isEqualTo(ID);
    assertThat(a.get(POD)).isEqualTo("4f0bd6a2-1c3e-4d9b-9a57-0b2f3c4d5e6f");
  }

  @Test
  void dockerCrioAndPodmanOutsideKubernetes() {
    assertThat(ContainerAttributes.parse("9:name=systemd:/docker/" + ID + "\n").get(CONTAINER)).isEqualTo(ID);
    assertThat(ContainerAttributes.parse("0::/machine.slice/crio-" + ID + ".scope\n").get(CONTAINER)).isEqualTo(ID);
    // Podman with a private cgroup namespace puts the container's processes one level further down.
    Attributes podman = ContainerAttributes.parse("0::/machine.slice/libpod-" + ID + ".scope/container\n");
    assertThat(podman.get(CONTAINER)).isEqualTo(ID);
    assertThat(podman.get(POD)).isNull();
  }

  @Test
  void aProcessInNoContainerGetsNeither() {
    assertThat(ContainerAttributes.parse("0::/user.slice/user-1000.slice/session-3.scope\n9:name=systemd:/\n")).isEqualTo(Attributes.empty());
    // A 64-hex run inside a longer name is not an id.
    assertThat(ContainerAttributes.parse("0::/system.slice/x" + ID + "0.service\n")).isEqualTo(Attributes.empty());
  }
}
