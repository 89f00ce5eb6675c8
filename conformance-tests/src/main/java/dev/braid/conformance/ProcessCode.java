package dev.braid.conformance;

import dev.braid.elf.ElfFile;
import dev.braid.elf.go.GoFunction;
import dev.braid.elf.go.Pclntab;
import dev.braid.profiler.ProcessMaps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which Go function of a running process's executable an instruction pointer is in (pclntab), and
 * whether it is in a C library's signal-return trampoline.
 */
final class ProcessCode {
  /**
   * The signal-return trampolines of x86-64 C libraries: {@code mov $15, %rax; syscall} (glibc's
   * {@code __restore_rt}) and {@code mov $15, %eax; syscall} (musl's), rt_sigreturn being 15.
   */
  private static final List<byte[]> RT_SIGRETURN = List.of(HexFormat.of().parseHex("48c7c00f0000000f05"), HexFormat.of().parseHex("b80f0000000f05"));

  private final Pclntab pclntab;
  private final long bias;
  private final Set<Long> signalReturns;

  private ProcessCode(Pclntab pclntab, long bias, Set<Long> signalReturns) {
    this.pclntab = pclntab;
    this.bias = bias;
    this.signalReturns = signalReturns;
  }

  /** Read while the process runs: its mappings say where its libraries are. */
  static ProcessCode of(Path exe, int pid) throws IOException {
    try (ElfFile elf = ElfFile.open(exe)) {
      return new ProcessCode(Pclntab.read(elf), elf.isPositionIndependent() ? loadBias(elf, exe, pid) : 0, signalReturns(exe, pid));
    }
  }

  Optional<GoFunction> functionAt(long pc) {
    return pclntab.functionAt(pc - bias);
  }

  /**
   * Whether {@code pc} is a signal-return trampoline's {@code syscall}, or just past it (where a
   * sample taken while the kernel returns from the signal finds the thread).
   */
  boolean inSignalReturn(long pc) {
    return signalReturns.contains(pc);
  }

  /** The trampolines' syscall instructions and the addresses after them, in the process's other executable mappings. */
  static Set<Long> signalReturns(Path exe, int pid) throws IOException {
    String self = exe.toRealPath().toString();
    ProcessMaps maps = ProcessMaps.read(pid).orElseThrow(() -> new IOException("process " + pid + " has exited"));
    Set<Long> found = new HashSet<>();
    for (ProcessMaps.Region r : maps.mappings()) {
      if (!r.isFile() || r.path().equals(self) || !Files.isReadable(Path.of(r.path()))) {
        continue;
      }
      // Latin-1 maps each byte to one char: String.indexOf searches the bytes.
      String text = new String(read(Path.of(r.path()), r.offset(), r.end() - r.start()), StandardCharsets.ISO_8859_1);
      for (byte[] pattern : RT_SIGRETURN) {
        String code = new String(pattern, StandardCharsets.ISO_8859_1);
        for (int i = text.indexOf(code); i >= 0; i = text.indexOf(code, i + 1)) {
          found.add(r.start() + i + pattern.length - 2); // the syscall
          found.add(r.start() + i + pattern.length); // past it
        }
      }
    }
    return found;
  }

  /** Up to {@code length} bytes of {@code file} from {@code offset}. */
  private static byte[] read(Path file, long offset, long length) throws IOException {
    try (FileChannel channel = FileChannel.open(file)) {
      ByteBuffer b = ByteBuffer.allocate((int) Math.max(0, Math.min(length, channel.size() - offset)));
      channel.read(b, offset);
      return b.array();
    }
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
