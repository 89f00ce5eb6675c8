package dev.braid.elf.go;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Undoes Go's {@code strconv.Quote}, which {@code runtime/debug.BuildInfo} applies to build-setting keys and values
 * that contain spaces, tabs, quotes or '=' (keys).
 */
final class GoQuoted {
  private GoQuoted() {}

  /** Whether {@code s} starts with a Go quoted string ("..." or `...`). */
  static boolean isQuoted(String s) {
    return !s.isEmpty() && (s.charAt(0) == '"' || s.charAt(0) == '`');
  }

  /**
   * The length of the quoted string at the start of {@code s}, including both quotes, or -1 if it does not close.
   */
  static int quotedPrefixLength(String s) {
    char q = s.charAt(0);
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && q == '"') {
        i++;
      } else if (c == q) {
        return i + 1;
      }
    }
    return -1;
  }

  /** The value of a complete Go quoted string (with its quotes). Malformed escapes are kept as written. */
  static String unquote(String quoted) {
    String body = quoted.substring(1, quoted.length() - 1);
    if (quoted.charAt(0) == '`') {
      return body;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length());
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c != '\\' || i + 1 >= body.length()) {
        appendUtf8(out, body.codePointAt(i));
        if (Character.isHighSurrogate(c)) {
          i++;
        }
        continue;
      }
      char e = body.charAt(++i);
      switch (e) {
        case 'a' -> out.write(7);
        case 'b' -> out.write('\b');
        case 'f' -> out.write('\f');
        case 'n' -> out.write('\n');
        case 'r' -> out.write('\r');
        case 't' -> out.write('\t');
        case 'v' -> out.write(11);
        case '\\', '"', '\'' -> out.write(e);
        case 'x' -> i = hex(body, i, 2, out, false);
        case 'u' -> i = hex(body, i, 4, out, true);
        case 'U' -> i = hex(body, i, 8, out, true);
        default -> {
          if (i + 2 < body.length() && isOctal(e) && isOctal(body.charAt(i + 1)) && isOctal(body.charAt(i + 2))) {
            out.write(Integer.parseInt(body.substring(i, i + 3), 8) & 0xff);
            i += 2;
          } else {
            out.write('\\');
            appendUtf8(out, e);
          }
        }
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Decodes the {@code digits} hex digits after the escape letter at {@code i}; returns the index of the last one. */
  private static int hex(String body, int i, int digits, ByteArrayOutputStream out, boolean rune) {
    int end = i + 1 + digits;
    int value = -1;
    if (end <= body.length()) {
      try {
        value = Integer.parseUnsignedInt(body, i + 1, end, 16);
      } catch (NumberFormatException e) {
        value = -1;
      }
    }
    if (value < 0 || (rune && !Character.isValidCodePoint(value))) {
      out.write('\\');
      out.write(body.charAt(i));
      return i;
    }
    if (rune) {
      appendUtf8(out, value);
    } else {
      out.write(value);
    }
    return end - 1;
  }

  private static boolean isOctal(char c) {
    return c >= '0' && c <= '7';
  }

  private static void appendUtf8(ByteArrayOutputStream out, int codePoint) {
    out.writeBytes(new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8));
  }
}
