package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileIdentityTest {
  @TempDir Path dir;

  @Test
  void aHardLinkAndASymbolicLinkAreTheSameFileAnotherFileIsNot() throws Exception {
    Path binary = Files.writeString(dir.resolve("shop"), "a binary");
    Path hardLink = Files.createLink(dir.resolve("shop-link"), binary);
    Path symlink = Files.createSymbolicLink(dir.resolve("shop-symlink"), binary);
    Path other = Files.writeString(dir.resolve("cart"), "a binary");

    FileIdentity shop = FileIdentity.of(binary).orElseThrow();
    assertThat(FileIdentity.of(hardLink)).contains(shop);
    assertThat(FileIdentity.of(symlink)).contains(shop);
    assertThat(FileIdentity.of(other).orElseThrow()).isNotEqualTo(shop);
    assertThat(shop.inode()).isEqualTo(((Number) Files.getAttribute(binary, "unix:ino")).longValue());
    assertThat(shop.device()).isEqualTo(((Number) Files.getAttribute(binary, "unix:dev")).longValue());
  }

  @Test
  void aProcessIsTheFileItRuns() throws Exception {
    Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
    assertThat(FileIdentity.ofProcess((int) ProcessHandle.current().pid())).isEqualTo(FileIdentity.of(java));
  }

  @Test
  void nothingForAFileThatIsGone() {
    assertThat(FileIdentity.of(dir.resolve("gone"))).isEmpty();
    assertThat(FileIdentity.ofProcess(Integer.MAX_VALUE)).isEmpty();
  }
}
