package dev.braid.correlator.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Prints an OTLP message as OTLP/JSON (the OTLP specification's JSON mapping): field names in
 * lowerCamelCase, enums as numbers, 64-bit integers as decimal strings, trace and span ids in hex
 * where protobuf's own JSON mapping would use base64, default values left out. protobuf-java-util's
 * printer cannot print ids in hex, hence this small walk over the descriptors.
 */
public final class OtlpJson {
  /** The bytes fields OTLP/JSON writes in hex; any other bytes field is base64. */
  private static final Set<String> HEX_FIELDS = Set.of("trace_id", "span_id", "parent_span_id", "profile_id");

  private OtlpJson() {}

  /** {@code message} as one line of JSON, without the newline. */
  public static String print(Message message) {
    JsonOut out = new JsonOut();
    message(out, message);
    return out.toString();
  }

  /** Appends {@code message} to {@code out}. */
  static void write(JsonOut out, Message message) {
    message(out, message);
  }

  private static void message(JsonOut out, Message message) {
    out.raw('{');
    boolean first = true;
    for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
      if (!first) {
        out.raw(',');
      }
      first = false;
      FieldDescriptor field = e.getKey();
      out.string(field.getJsonName()).raw(':');
      if (field.isRepeated()) {
        out.raw('[');
        List<?> values = (List<?>) e.getValue();
        for (int i = 0; i < values.size(); i++) {
          if (i > 0) {
            out.raw(',');
          }
          value(out, field, values.get(i));
        }
        out.raw(']');
      } else {
        value(out, field, e.getValue());
      }
    }
    out.raw('}');
  }

  private static void value(JsonOut out, FieldDescriptor field, Object value) {
    switch (field.getType()) {
      case MESSAGE, GROUP -> message(out, (Message) value);
      case ENUM -> out.number(((com.google.protobuf.Descriptors.EnumValueDescriptor) value).getNumber());
      case INT64, SINT64, SFIXED64 -> out.quoted((Long) value);
      case UINT64, FIXED64 -> out.raw('"').raw(Long.toUnsignedString((Long) value)).raw('"');
      case INT32, SINT32, SFIXED32 -> out.number((Integer) value);
      case UINT32, FIXED32 -> out.number(Integer.toUnsignedLong((Integer) value));
      case BOOL -> out.raw(value.toString());
      case DOUBLE, FLOAT -> number(out, ((Number) value).doubleValue());
      case STRING -> out.string((String) value);
      case BYTES -> {
        byte[] bytes = ((ByteString) value).toByteArray();
        String text = HEX_FIELDS.contains(field.getName()) ? HexFormat.of().formatHex(bytes) : Base64.getEncoder().encodeToString(bytes);
        out.raw('"').raw(text).raw('"');
      }
    }
  }

  /** JSON has no NaN or infinities; protobuf's JSON mapping spells them as strings. */
  private static void number(JsonOut out, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      out.string(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    } else {
      out.raw(Double.toString(d));
    }
  }
}
