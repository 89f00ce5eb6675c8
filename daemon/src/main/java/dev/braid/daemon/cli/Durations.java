package dev.braid.daemon.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parses Go-style durations: {@code 30s}, {@code 2m}, {@code 500ms}, {@code 1h}. */
final class Durations implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern FORMAT = Pattern.compile("(\\d+)(ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    Matcher m = FORMAT.matcher(value.strip());
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 500ms, 30s, 2m or 1h");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }
}
