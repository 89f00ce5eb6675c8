package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A writer the suite starts is stopped whole: also what it left running after its shell exited. */
class WriterProcessTest {
  @Test
  void closeStopsWhatTheShellLeftBehind() throws Exception {
    long child;
    try (WriterProcess writer = WriterProcess.start("sleep 300 & echo $!", Path.of("/bin/true"), Path.of("/tmp"), "none", "none")) {
      assertThat(PinProbe.poll(java.time.Duration.ofSeconds(10), () -> !writer.alive() && !writer.tail().isBlank())).isTrue();
      child = Long.parseLong(writer.tail().strip());
      assertThat(ProcessHandle.of(child)).as("the shell exited, its child runs on").map(ProcessHandle::isAlive).contains(true);
    }
    Optional<ProcessHandle> after = ProcessHandle.of(child);
    assertThat(after.map(ProcessHandle::isAlive).orElse(false)).as("the child after close").isFalse();
  }
}
