package dev.braid.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A running example service: started, asked where it listens (its first line of output is
 * {@code listening on HOST:PORT}), and stopped on close. Owns the process.
 */
public final class ExampleService implements AutoCloseable {
  private final Process process;
  private final String address;

  private ExampleService(Process process, String address) {
    this.process = process;
    this.address = address;
  }

  /** Starts {@code binary args...} (pass {@code -addr 127.0.0.1:0} for a free port). */
  public static ExampleService start(Path binary, String... args) {
    ExampleService s = startUntil(binary, "listening on ", args);
    return new ExampleService(s.process, s.address.substring("listening on ".length()).strip());
  }

  /** Starts a program that is no server, once it has printed a line starting with {@code ready} (the lines before are skipped). */
  public static ExampleService startUntil(Path binary, String ready, String... args) {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      String first = line;
      while (line != null && !line.startsWith(ready)) {
        line = out.readLine();
      }
      if (line == null) {
        p.destroyForcibly();
        throw new IllegalStateException(binary + " did not start; it said: " + first);
      }
      return new ExampleService(p, line);
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + binary, e);
    }
  }

  /** {@code host:port} where it listens. */
  public String address() {
    return address;
  }

  /** {@code http://host:port}. */
  public String url() {
    return "http://" + address;
  }

  public int pid() {
    return (int) process.pid();
  }

  public Process process() {
    return process;
  }

  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
