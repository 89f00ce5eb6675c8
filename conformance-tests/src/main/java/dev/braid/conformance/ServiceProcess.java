package dev.braid.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A workload server the suite (and braid's demo) runs: started, asked where it listens (the
 * example programs print {@code listening on HOST:PORT} once ready), stopped on close.
 */
public final class ServiceProcess implements AutoCloseable {
  private static final String READY = "listening on ";

  private final Process process;
  private final String address;

  private ServiceProcess(Process process, String address) {
    this.process = process;
    this.address = address;
  }

  /** Starts {@code binary args...} (pass {@code -addr 127.0.0.1:0} for a free port) and waits until it listens. */
  public static ServiceProcess start(Path binary, String... args) {
    List<String> command = new ArrayList<>(List.of(binary.toString()));
    command.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      List<String> said = new ArrayList<>();
      for (String line; (line = out.readLine()) != null; said.add(line)) {
        if (line.startsWith(READY)) {
          return new ServiceProcess(p, line.substring(READY.length()).strip());
        }
      }
      p.destroyForcibly();
      throw new IllegalStateException(binary + " exited before it listened; it said: " + String.join(" / ", said));
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

  /** Kills it at once (SIGKILL), as a crash would. */
  public void kill() {
    process.destroyForcibly();
  }

  /** Asks it to stop (SIGTERM) and waits; whether it exited within {@code timeout}. */
  public boolean terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  @Override
  public void close() {
    try {
      if (!terminate(Duration.ofSeconds(5))) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
