package dev.braid.profiler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Kernel function names from {@code /proc/kallsyms}, read once. Root sees real addresses; others
 * see zeros (kptr_restrict), and then nothing is symbolized. Immutable; thread-safe.
 */
final class Kallsyms {
  private static final Pattern FIELDS = Pattern.compile("\\s+"); // compiled once, not per line (/proc/kallsyms has ~100k)
  private final long[] addresses;
  private final String[] names;

  private Kallsyms(long[] addresses, String[] names) {
    this.addresses = addresses;
    this.names = names;
  }

  static Kallsyms read() {
    try {
      return parse(Files.readString(Path.of("/proc/kallsyms")));
    } catch (IOException e) {
      return new Kallsyms(new long[0], new String[0]);
    }
  }

  static Kallsyms parse(String text) {
    record Sym(long address, String name) {}
    List<Sym> syms = new ArrayList<>();
    for (String line : text.split("\n")) {
      // address type name [module]
      String[] f = FIELDS.split(line);
      if (f.length < 3) {
        continue;
      }
      char type = Character.toLowerCase(f[1].charAt(0));
      long address = Long.parseUnsignedLong(f[0], 16);
      if ((type == 't' || type == 'w') && address != 0) {
        syms.add(new Sym(address, f.length > 3 ? f[2] + " " + f[3] : f[2]));
      }
    }
    syms.sort((a, b) -> Long.compareUnsigned(a.address(), b.address()));
    long[] addresses = new long[syms.size()];
    String[] names = new String[syms.size()];
    for (int i = 0; i < syms.size(); i++) {
      addresses[i] = syms.get(i).address();
      names[i] = syms.get(i).name();
    }
    return new Kallsyms(addresses, names);
  }

  /** The function that contains {@code address}: the nearest symbol at or below it. */
  Optional<String> functionAt(long address) {
    if (addresses.length == 0 || Long.compareUnsigned(address, addresses[0]) < 0) {
      return Optional.empty();
    }
    int i = Arrays.binarySearch(addresses, address);
    if (i < 0) {
      i = -i - 2;
    }
    // Addresses are kernel half (negative as signed); binarySearch on signed order still works
    // because every kernel text address shares the sign bit.
    return Optional.of(names[i]);
  }

  boolean isEmpty() {
    return addresses.length == 0;
  }
}
