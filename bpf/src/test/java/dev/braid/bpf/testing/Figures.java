package dev.braid.bpf.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The figures a test's verdict rests on (samples it saw, requests it sent, how long something
 * took), each recorded beside the bound the test holds it to: one tab-separated line per figure in
 * the module's {@code target/test-figures.tsv} (test, figure, observed, bound). Runs on other
 * machines, or beside other load, show from these how far each figure stays from its bound.
 * Thread-safe: each line is one append.
 */
public final class Figures {
  private static final Path FILE = Path.of("target", "test-figures.tsv");

  private Figures() {}

  /** Records {@code observed} and asserts that it is at least {@code least}. */
  public static long atLeast(String figure, long observed, long least) {
    record(figure, observed, ">= " + least);
    assertThat(observed).as("%s (at least %d)", figure, least).isGreaterThanOrEqualTo(least);
    return observed;
  }

  /** Records {@code observed} and asserts that it is at most {@code most}. */
  public static long atMost(String figure, long observed, long most) {
    record(figure, observed, "<= " + most);
    assertThat(observed).as("%s (at most %d)", figure, most).isLessThanOrEqualTo(most);
    return observed;
  }

  /** Records a figure that a test reports without holding it to a bound. */
  public static void record(String figure, long observed, String bound) {
    String line = caller() + "\t" + figure + "\t" + observed + "\t" + bound + "\n";
    try {
      Files.createDirectories(FILE.getParent());
      Files.writeString(FILE, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("recording a test figure in " + FILE.toAbsolutePath(), e);
    }
  }

  /** The test method that asked, as Class.method: the first caller in a class named ...Test or ...Suite. */
  private static String caller() {
    Optional<String> test =
        StackWalker.getInstance()
            .walk(frames -> frames.filter(f -> f.getClassName().endsWith("Test") || f.getClassName().endsWith("Suite")).findFirst())
            .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName());
    return test.orElse("?");
  }
}
