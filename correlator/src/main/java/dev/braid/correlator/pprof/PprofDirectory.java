package dev.braid.correlator.pprof;

import dev.braid.correlator.Batch;
import dev.braid.correlator.Output;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.ProfiledSample;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code DIR/pprof/}: one gzipped pprof file per process and flush window, named {@code
 * SERVICE-PID-N.pb.gz}. Not thread-safe.
 */
public final class PprofDirectory implements Output {
  private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9._-]"); // in a file name
  private final Path dir;
  private final long periodNanos;
  private final PprofWriter writer = new PprofWriter();
  private final Map<Integer, Integer> sequence = new LinkedHashMap<>();

  public PprofDirectory(Path dir, long sampleHz) {
    this.dir = dir;
    this.periodNanos = 1_000_000_000L / sampleHz;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
  }

  @Override
  public String name() {
    return "pprof";
  }

  @Override
  public void write(Batch batch) {
    writeFiles(batch);
  }

  @Override
  public void close() {}

  /** Writes the batch's samples; returns the files written. */
  public List<Path> writeFiles(Batch batch) {
    Map<ProcessInfo, List<PprofProfile.Sample>> byProcess = new LinkedHashMap<>();
    for (ProfiledSample s : batch.samples()) {
      byProcess.computeIfAbsent(s.process(), p -> new ArrayList<>()).add(new PprofProfile.Sample(s.stack(), s.labels()));
    }
    List<Path> written = new ArrayList<>();
    for (Map.Entry<ProcessInfo, List<PprofProfile.Sample>> e : byProcess.entrySet()) {
      ProcessInfo p = e.getKey();
      int n = sequence.merge(p.pid(), 1, Integer::sum);
      Path file = dir.resolve(safe(p.serviceName()) + "-" + p.pid() + "-" + n + ".pb.gz");
      PprofProfile profile =
          new PprofProfile(batch.startEpochNanos(), batch.endEpochNanos() - batch.startEpochNanos(), periodNanos, e.getValue());
      try (OutputStream out = Files.newOutputStream(file)) {
        writer.write(profile, out);
      } catch (IOException ex) {
        throw new UncheckedIOException("writing " + file, ex);
      }
      written.add(file);
    }
    return written;
  }

  private static String safe(String name) {
    return UNSAFE.matcher(name).replaceAll("_");
  }
}
