package dev.braid.correlator.otlp;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import java.util.ArrayList;
import java.util.List;

/** OpenTelemetry's API values as OTLP messages. */
final class OtlpAttributes {
  private OtlpAttributes() {}

  static Resource resource(io.opentelemetry.sdk.resources.Resource resource) {
    return Resource.newBuilder().addAllAttributes(keyValues(resource.getAttributes())).build();
  }

  static InstrumentationScope scope(String name) {
    return InstrumentationScope.newBuilder().setName(name).setVersion(TraceFile.SCOPE_VERSION).build();
  }

  static List<KeyValue> keyValues(Attributes attributes) {
    List<KeyValue> out = new ArrayList<>(attributes.size());
    attributes.forEach((AttributeKey<?> key, Object value) -> out.add(KeyValue.newBuilder().setKey(key.getKey()).setValue(value(value)).build()));
    return out;
  }

  static AnyValue value(Object value) {
    return switch (value) {
      case Long l -> AnyValue.newBuilder().setIntValue(l).build();
      case Integer i -> AnyValue.newBuilder().setIntValue(i).build();
      case Boolean b -> AnyValue.newBuilder().setBoolValue(b).build();
      case Double d -> AnyValue.newBuilder().setDoubleValue(d).build();
      default -> AnyValue.newBuilder().setStringValue(value.toString()).build();
    };
  }
}
