package dev.braid.correlator;

import dev.braid.bpf.TraceContext;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import java.util.Locale;

/**
 * A link from a span to the span of a goroutine it handed a value to, or got one from, over a Go
 * channel. Each hand-off between two spans gives one link on each of them, pointing at the other.
 * Or ({@link Type#APPLICATION_SPAN}) from braid's span to a root span of the application's that
 * started inside it (a manual span with no parent of its own): the channel's fields are unused.
 *
 * @param type what the link stands for
 * @param to the other span
 * @param side the side of the hand-off that the span holding this link was on
 * @param channel the channel's address in its process
 * @param capacity the channel's buffer size; 0 when unbuffered
 * @param buffered whether the value waited in the buffer (else one side waited for the other)
 * @param select whether the span's side used a select statement
 */
public record SpanLink(Type type, TraceContext to, Side side, long channel, long capacity, boolean buffered, boolean select) {
  /** A hand-off over a Go channel. */
  public SpanLink(TraceContext to, Side side, long channel, long capacity, boolean buffered, boolean select) {
    this(Type.GO_CHANNEL, to, side, channel, capacity, buffered, select);
  }

  /** From braid's span to a root span of the application's (OpenTelemetry SDK) that started inside it. */
  public static SpanLink toApplicationSpan(TraceContext to) {
    return new SpanLink(Type.APPLICATION_SPAN, to, Side.SENDER, 0, 0, false, false);
  }

  // braid's own attributes: OpenTelemetry's conventions have none for in-process hand-offs.
  public static final AttributeKey<String> LINK_TYPE = AttributeKey.stringKey("braid.link.type");
  public static final String GO_CHANNEL = "go.channel";
  public static final String APPLICATION_SPAN = "application.span";

  /** What a link stands for: {@code braid.link.type}. */
  public enum Type {
    GO_CHANNEL,
    APPLICATION_SPAN
  }
  public static final AttributeKey<String> SIDE = AttributeKey.stringKey("go.channel.side");
  public static final AttributeKey<String> ADDRESS = AttributeKey.stringKey("go.channel.address");
  public static final AttributeKey<Long> CAPACITY = AttributeKey.longKey("go.channel.capacity");
  public static final AttributeKey<Boolean> BUFFERED = AttributeKey.booleanKey("go.channel.buffered");
  public static final AttributeKey<Boolean> SELECT = AttributeKey.booleanKey("go.channel.select");

  /** Which end of the channel. */
  public enum Side {
    SENDER,
    RECEIVER;

    public String attributeValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The attributes as OpenTelemetry's API holds them. */
  public Attributes attributes() {
    return CompletedSpan.collect(this::visitAttributes);
  }

  /** The link's attributes, in a fixed order. */
  public void visitAttributes(CompletedSpan.AttributeVisitor v) {
    if (type == Type.APPLICATION_SPAN) {
      v.string(LINK_TYPE, APPLICATION_SPAN);
      return;
    }
    v.string(LINK_TYPE, GO_CHANNEL);
    v.string(SIDE, side.attributeValue());
    v.string(ADDRESS, "0x" + Long.toHexString(channel));
    v.number(CAPACITY, capacity);
    v.flag(BUFFERED, buffered);
    v.flag(SELECT, select);
  }
}
