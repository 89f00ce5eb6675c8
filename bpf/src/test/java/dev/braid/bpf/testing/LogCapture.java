package dev.braid.bpf.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The warnings braid's loggers publish while open. System.Logger goes to java.util.logging here,
 * which the tests set to print errors only: the logger is opened to warnings for the capture,
 * and the console stays quiet.
 */
public final class LogCapture extends Handler implements AutoCloseable {
  private final Logger logger;
  private final Level level;
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();

  private LogCapture(Logger logger) {
    this.logger = logger;
    this.level = logger.getLevel();
  }

  /** Captures what {@code name} and the loggers below it say, until closed. */
  public static LogCapture of(String name) {
    LogCapture capture = new LogCapture(Logger.getLogger(name));
    capture.logger.setLevel(Level.WARNING);
    capture.logger.addHandler(capture);
    return capture;
  }

  /** The messages logged at WARNING that contain {@code text}. */
  public List<String> warnings(String text) {
    return records.stream().filter(r -> r.getLevel() == Level.WARNING && r.getMessage().contains(text)).map(LogRecord::getMessage).toList();
  }

  @Override
  public void publish(LogRecord record) {
    records.add(record);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
    logger.setLevel(level);
  }
}
