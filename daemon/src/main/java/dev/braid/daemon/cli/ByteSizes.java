package dev.braid.daemon.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parses sizes in bytes: {@code 4096}, {@code 64K}, {@code 8M}, {@code 1G} (powers of 1024). */
final class ByteSizes implements CommandLine.ITypeConverter<Integer> {
  private static final Pattern FORMAT = Pattern.compile("(\\d+)([KMG]?)(i?B)?", Pattern.CASE_INSENSITIVE);

  @Override
  public Integer convert(String value) {
    Matcher m = FORMAT.matcher(value.strip());
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not a size such as 64K, 8M or 1G");
    }
    int shift = switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
      case "K" -> 10;
      case "M" -> 20;
      case "G" -> 30;
      default -> 0;
    };
    long bytes = Long.parseLong(m.group(1)) << shift;
    if (m.group(1).length() > 10 || bytes > Integer.MAX_VALUE) {
      throw new CommandLine.TypeConversionException("'" + value + "' is more than braid can take (at most 1G)");
    }
    return (int) bytes;
  }
}
