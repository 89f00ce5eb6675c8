package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Where a running process's C library returns from signals, read from its mappings. */
class ProcessCodeTest {
  @Test
  void theCLibrarysSignalReturnIsFoundWhereTheProcessHasIt() throws Exception {
    Process sleeper = new ProcessBuilder("/bin/sleep", "30").start(); // dynamically linked to the C library
    try {
      Thread.sleep(200); // exec'd and its libraries mapped
      Set<Long> found = ProcessCode.signalReturns(Path.of("/bin/sleep"), (int) sleeper.pid());
      // Each trampoline twice: its syscall, and the address past it (the C library's __restore_rt;
      // the dynamic loader has an rt_sigreturn of its own).
      List<Long> past = found.stream().filter(a -> found.contains(a - 2)).toList();
      assertThat(past).as("trampolines found").isNotEmpty().hasSize(found.size() / 2);
      // What the process has there, read from its memory: mov $15, %rax; syscall (rt_sigreturn).
      try (RandomAccessFile mem = new RandomAccessFile("/proc/" + sleeper.pid() + "/mem", "r")) {
        for (long a : past) {
          byte[] code = new byte[9];
          mem.seek(a - 9);
          mem.readFully(code);
          assertThat(HexFormat.of().formatHex(code)).as("the code before 0x%x", a).isEqualTo("48c7c00f0000000f05");
        }
      }
    } finally {
      sleeper.destroy();
      sleeper.waitFor(5, TimeUnit.SECONDS);
    }
  }
}
