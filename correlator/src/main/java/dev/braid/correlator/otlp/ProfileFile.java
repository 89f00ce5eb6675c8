package dev.braid.correlator.otlp;

import dev.braid.correlator.Batch;
import dev.braid.correlator.Output;
import java.nio.file.Path;

/** {@code profiles.jsonl}: OTLP/JSON, one {@code ExportProfilesServiceRequest} per flush with samples. */
public final class ProfileFile implements Output {
  private final JsonLinesFile file;
  private final ProfilesEncoder encoder;

  public ProfileFile(Path path, long sampleHz) {
    this.file = new JsonLinesFile(path);
    this.encoder = new ProfilesEncoder(sampleHz);
  }

  @Override
  public String name() {
    return file.path().getFileName().toString();
  }

  @Override
  public void write(Batch batch) {
    if (!batch.samples().isEmpty()) {
      file.write(encoder.encode(batch.samples(), batch.startEpochNanos(), batch.endEpochNanos()));
    }
  }

  @Override
  public void close() {
    file.close();
  }
}
