package dev.braid.conformance;

import dev.braid.elf.ElfFile;
import dev.braid.elf.go.GoFunction;
import dev.braid.elf.go.Pclntab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Which Go function of a running process's executable an instruction pointer is in (pclntab). */
final class ProcessCode {
  private final Pclntab pclntab;
  private final long bias;

  private ProcessCode(Pclntab pclntab, long bias) {
    this.pclntab = pclntab;
    this.bias = bias;
  }

  static ProcessCode of(Path exe, int pid) throws IOException {
    try (ElfFile elf = ElfFile.open(exe)) {
      return new ProcessCode(Pclntab.read(elf), elf.isPositionIndependent() ? loadBias(elf, exe, pid) : 0);
    }
  }

  Optional<GoFunction> functionAt(long pc) {
    return pclntab.functionAt(pc - bias);
  }

  /** Where a position-independent executable was loaded: its first mapping's start less the link address of that file offset. */
  private static long loadBias(ElfFile elf, Path exe, int pid) throws IOException {
    String path = exe.toRealPath().toString();
    for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "maps"))) {
      String[] f = line.trim().split("\\s+", 6);
      if (f.length == 6 && f[5].equals(path)) {
        long start = Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16);
        long offset = Long.parseUnsignedLong(f[2], 16);
        return start - elf.addressOfFileOffset(offset).orElseThrow(() -> new IOException(path + ": no segment holds file offset " + offset));
      }
    }
    throw new IOException(path + " is not mapped in process " + pid);
  }
}
