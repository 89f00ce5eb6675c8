package dev.braid.daemon.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * One log record per line, as machines read them: logfmt ({@code time=... level=INFO
 * logger=Daemon msg="..."}) or JSON ({@code {"time":...,"level":...}}). A stack trace goes in
 * {@code error}, on the same line.
 */
final class LogFormat extends Formatter {
  private final boolean json;

  private LogFormat(boolean json) {
    this.json = json;
  }

  static LogFormat parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "logfmt" -> new LogFormat(false);
      case "json" -> new LogFormat(true);
      default -> throw new IllegalArgumentException("--log-format must be logfmt or json, not '" + name + "'");
    };
  }

  @Override
  public String format(LogRecord r) {
    String logger = r.getLoggerName() == null ? "" : r.getLoggerName().substring(r.getLoggerName().lastIndexOf('.') + 1);
    String message = formatMessage(r);
    String error = null;
    if (r.getThrown() != null) {
      StringWriter trace = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(trace));
      error = trace.toString().strip();
    }
    StringBuilder out = new StringBuilder(128);
    if (json) {
      out.append("{\"time\":\"").append(Instant.ofEpochMilli(r.getMillis())).append("\",\"level\":\"").append(level(r.getLevel()));
      out.append("\",\"logger\":\"").append(logger).append("\",\"msg\":");
      jsonString(out, message);
      if (error != null) {
        out.append(",\"error\":");
        jsonString(out, error);
      }
      out.append('}');
    } else {
      out.append("time=").append(Instant.ofEpochMilli(r.getMillis())).append(" level=").append(level(r.getLevel()));
      out.append(" logger=").append(logger).append(" msg=");
      quoted(out, message);
      if (error != null) {
        out.append(" error=");
        quoted(out, error);
      }
    }
    return out.append('\n').toString();
  }

  /** The names OpenTelemetry's severity texts and most log tools use. */
  private static String level(Level l) {
    if (l.intValue() >= Level.SEVERE.intValue()) {
      return "ERROR";
    }
    if (l.intValue() >= Level.WARNING.intValue()) {
      return "WARN";
    }
    if (l.intValue() >= Level.INFO.intValue()) {
      return "INFO";
    }
    return l.intValue() >= Level.FINE.intValue() ? "DEBUG" : "TRACE";
  }

  /** logfmt's quoted value. */
  private static void quoted(StringBuilder out, String s) {
    escaped(out, s, false);
  }

  /** A JSON string (RFC 8259: control characters escaped too). */
  private static void jsonString(StringBuilder out, String s) {
    escaped(out, s, true);
  }

  private static void escaped(StringBuilder out, String s, boolean json) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (json && c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
