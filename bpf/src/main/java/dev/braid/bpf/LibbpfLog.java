package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.System.Logger.Level;

/**
 * Routes libbpf's own messages to the {@code dev.braid.bpf.libbpf} logger, and keeps the warnings
 * printed on the current thread so that a failed call can put libbpf's words into its exception.
 *
 * <p>libbpf has one print callback per process; this class installs it once, on first use of the
 * binding, and never removes it.
 */
final class LibbpfLog {
  private static final System.Logger LOG = System.getLogger("dev.braid.bpf.libbpf");
  private static final int LIBBPF_WARN = 0;
  private static final int LIBBPF_INFO = 1;
  private static final long FORMAT_BUFFER = 1 << 20; // a verifier log can be long
  private static final int RECENT_MAX = 1 << 20;
  private static final ThreadLocal<StringBuilder> RECENT = ThreadLocal.withInitial(StringBuilder::new);

  private LibbpfLog() {}

  private static final class Installed {
    static {
      try {
        MemorySegment stub =
            Libbpf.linker()
                .upcallStub(
                    MethodHandles.lookup()
                        .findStatic(
                            LibbpfLog.class,
                            "print",
                            MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class)),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
                    Arena.global());
        MemorySegment previous = (MemorySegment) Libbpf.H.LIBBPF_SET_PRINT.invokeExact(stub);
        assert previous != null;
      } catch (Throwable t) {
        throw Libbpf.rethrow(t);
      }
    }

    static void touch() {}
  }

  /** Installs the callback (once) and forgets this thread's earlier messages. */
  static void begin() {
    Installed.touch();
    RECENT.get().setLength(0);
  }

  /** The warnings libbpf printed on this thread since {@link #begin()}. */
  static String recent() {
    return RECENT.get().toString();
  }

  /** The upcall: {@code int print(enum libbpf_print_level, const char *fmt, va_list)}. */
  @SuppressWarnings("unused")
  private static int print(int level, MemorySegment format, MemorySegment args) {
    try {
      Level javaLevel = level == LIBBPF_WARN ? Level.WARNING : level == LIBBPF_INFO ? Level.DEBUG : Level.TRACE;
      boolean keep = level == LIBBPF_WARN;
      if (!keep && !LOG.isLoggable(javaLevel)) {
        return 0;
      }
      String text;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment buf = arena.allocate(FORMAT_BUFFER);
        int n = (int) Libbpf.C.VSNPRINTF.invokeExact(buf, FORMAT_BUFFER, format, args);
        text = n < 0 ? "(unprintable libbpf message)" : buf.getString(0);
      }
      StringBuilder recent = RECENT.get();
      if (keep && recent.length() < RECENT_MAX) {
        recent.append(text, 0, Math.min(text.length(), RECENT_MAX - recent.length()));
      }
      // Warnings reach the caller in its exception; logging them too would say everything twice.
      LOG.log(keep ? Level.DEBUG : javaLevel, () -> text.stripTrailing());
    } catch (Throwable t) {
      // An exception must never unwind into native code: that would crash the JVM.
      LOG.log(Level.WARNING, "libbpf message lost: " + t);
    }
    return 0;
  }
}
