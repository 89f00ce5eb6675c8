/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layouts shared by tracer.bpf.c and the Java decoders in tracer/.
 * A test compares every Java MemoryLayout with these structs through the
 * object's BTF, so change both sides together.
 */
#ifndef BRAID_TRACER_H
#define BRAID_TRACER_H

#define METHOD_MAX 16
#define PATH_MAX_LEN 128
#define HOST_MAX 64
#define ROUTE_MAX 96
#define NO_INHERIT_MAX 24
#define HCHAN_VIEW_WORDS 8 /* the channel probes read a runtime.hchan's first 64 bytes, in one read */
#define SELECT_CASES_MAX 64 /* buffered cases of a select past this many sends, or receives, are not paired */

/*
 * The constants below are enums, not #defines, so that the object's BTF carries them: Java's
 * copies are checked against it (tracer's LayoutTest), as the structs' layouts are.
 */

/* Feature bits of struct go_offsets.features. */
enum braid_feature {
	FEAT_HTTP_SERVER = (1 << 0), /* server request/response offsets are known */
	FEAT_TRACEPARENT = (1 << 1), /* the Header map can be read */
	FEAT_ROUTE = (1 << 2), /* Request.Pattern exists (Go 1.23+) */
	FEAT_INHERIT = (1 << 3), /* spawned goroutines inherit their parent's context */
	FEAT_HTTP_CLIENT = (1 << 4), /* client spans */
	FEAT_PROPAGATE = (1 << 5), /* write traceparent into outgoing requests (--propagate) */
	FEAT_CTX_MAP = (1 << 6), /* keep traces_ctx_v1: the goroutine-switch probes are attached */
	FEAT_CHAN_LINKS = (1 << 7), /* pair channel sends with receives: the channel probes are attached */
	FEAT_HTTP2_SERVER = (1 << 8), /* net/http's HTTP/2 server: its response writer's offsets are known */
	FEAT_HTTP_VERSION = (1 << 9), /* Request.ProtoMajor and Response.ProtoMajor are known */
	FEAT_GRPC_SERVER = (1 << 10), /* google.golang.org/grpc server spans: its streams' offsets are known */
	FEAT_GRPC_STREAM_PTR = (1 << 11), /* transport.ServerStream embeds *Stream (grpc 1.69-1.79), not Stream */
	FEAT_GRPC_CLIENT = (1 << 12), /* google.golang.org/grpc client spans */
	FEAT_SDK_SPANS = (1 << 13), /* the OpenTelemetry Go SDK's recording spans are followed */
	FEAT_AUTO_SDK = (1 << 14), /* --auto-sdk: braid is the SDK of programs that use the API alone */
};

/* How the Go runtime lays out a map[string][]string. */
enum braid_map_layout {
	MAP_LAYOUT_BUCKETS = 1, /* runtime.hmap, Go <= 1.23 */
	MAP_LAYOUT_SWISS = 2, /* internal/runtime/maps.Map, Go >= 1.24 */
};

/*
 * Field offsets of one Go binary, found by user space (DWARF or a table per
 * Go release). Probes find their binary's entry by the attach cookie.
 */
struct go_offsets {
	__u32 features;
	__u32 g_goid;
	__u32 g_parent_goid;
	__u32 g_startpc;
	__u32 request_method;
	__u32 request_url;
	__u32 request_header;
	__u32 request_host;
	__u32 request_pattern;
	__u32 url_host;
	__u32 url_path;
	__u32 server_response_status;
	__u32 server_response_req;
	__u32 client_response_status_code;
	__u32 client_response_request;
	__u32 map_layout;
	__u32 hmap_flags;
	__u32 hmap_b;
	__u32 hmap_buckets;
	__u32 hmap_oldbuckets;
	__u32 swiss_dir_ptr;
	__u32 swiss_dir_len;
	__u32 swiss_table_groups;
	__u32 hchan_dataqsiz;
	__u32 hchan_buf;
	__u32 hchan_elemsize; /* a u16 */
	__u32 hchan_sendx;
	__u32 hchan_recvx;
	__u32 sudog_g;
	__u32 sudog_is_select; /* a bool */
	__u32 scase_c;
	__u32 scase_size;
	__u32 request_proto_major;  /* ProtoMinor follows it: both are ints */
	__u32 client_response_proto_major;
	__u32 h2_response_writer_rws; /* net/http's HTTP/2 responseWriter.rws */
	__u32 h2_rws_status;          /* its responseWriterState.status */
	/* google.golang.org/grpc and the golang.org/x/net/http2 frames it reads */
	__u32 grpc_server_stream_stream; /* transport.ServerStream's Stream (grpc >= 1.69; 0 before: it is a Stream) */
	__u32 grpc_stream_id;
	__u32 grpc_stream_method;
	__u32 grpc_status_s;              /* internal/status.Status.s: a *spb.Status */
	__u32 grpc_status_code;           /* genproto's rpc/status.Status.Code (an int32) */
	__u32 h2_meta_headers_frame;      /* x/net/http2.MetaHeadersFrame's *HeadersFrame */
	__u32 h2_meta_fields;             /* its Fields []hpack.HeaderField */
	__u32 h2_frame_stream_id;         /* HeadersFrame's FrameHeader.StreamID */
	__u32 hpack_field_size;           /* sizeof(hpack.HeaderField) */
	__u32 hpack_field_value;          /* its Value (Name is at 0) */
	__u32 grpc_client_conn_target;    /* grpc.ClientConn.target: the string the client was made for */
	__u32 grpc_error_s;               /* internal/status.Error.s: a *Status */
	/* go.opentelemetry.io/otel/sdk/trace */
	__u32 sdk_span_context;           /* recordingSpan.spanContext */
	__u32 sdk_new_span_sc;            /* newRecordingSpan's sc from SP at its entry: on the stack, after psc */
	__u32 sdk_span_kind;              /* recordingSpan.spanKind (a trace.SpanKind, an int) */
	__u32 _pad;
	/* Link-time address of the go_spawn probe: its runtime address minus this is the
	 * load bias of a PIE, to compare runtime PCs with the link-time ones below. */
	__u64 spawn_site;
	/* Goroutines that start at these PCs outlive the request that starts them
	 * (pooled connections' loops, the runtime's workers): they inherit no span. */
	__u64 no_inherit_pc[NO_INHERIT_MAX];
	/* Link-time addresses the gRPC client's end probe compares a returned error with (its
	 * own site gives the load bias): the code of (*status.Error).Error and of
	 * (*errors.errorString).Error (io.EOF's), which the itab of such an error holds. */
	__u64 grpc_client_end_site;
	__u64 grpc_status_error_method;
	__u64 errors_string_method;
};

/* Event kinds; every event starts with struct event_header. */
enum braid_event {
	EVENT_SPAN_START = 1,
	EVENT_SPAN_END = 2,
	EVENT_HANDOFF = 3,
	EVENT_APP_SERVER_SPAN = 4,
	EVENT_API_SPAN = 5,
	EVENT_AUTO_SDK_SWITCH = 6,
	EVENT_APP_ROOT_SPAN = 7, /* struct app_server_span_event: a root span of the application's inside braid's */
};

#define SPAN_KIND_SERVER 2
#define SPAN_KIND_CLIENT 3

#define RPC_SYSTEM_NONE 0
#define RPC_SYSTEM_GRPC 1

/* Why a span ended. */
enum braid_end_reason {
	END_FINISHED = 0, /* the request finished normally */
	END_GOROUTINE_EXIT = 1, /* its goroutine exited first (a panic, a hijack) */
	END_PARENT_ENDED = 2, /* a client span still open when its server span ended */
	END_SUPERSEDED = 3, /* a client span still open when the goroutine began another */
	END_CLIENT_ERROR = 4, /* the client call returned an error */
};

struct event_header {
	__u32 kind;
	__u32 pid;
	__u32 tid;
	__u32 binary_id;
	__u64 goid;
	__u64 time_ns; /* CLOCK_MONOTONIC */
};

struct span_start_event {
	struct event_header header;
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 parent_span_id[8]; /* all zero: a root span */
	__u8 trace_flags;
	__u8 span_kind;
	__u8 method_len;
	__u8 host_len; /* the full length, up to 255; more than HOST_MAX means cut */
	__u32 path_len; /* the full length; more than PATH_MAX_LEN means cut */
	char method[METHOD_MAX];
	char path[PATH_MAX_LEN];
	char host[HOST_MAX];
	__u8 proto_major; /* the request's HTTP version (server spans); 0 when unknown */
	__u8 proto_minor;
	__u8 rpc_system; /* RPC_SYSTEM_*: path is the full method, the end's status an RPC status code */
	__u8 _pad[5];
};

struct span_end_event {
	struct event_header header;
	__u8 trace_id[16];
	__u8 span_id[8];
	__s64 status; /* HTTP status code, 0 when none */
	__u32 reason;
	__u32 route_len; /* the full length; more than ROUTE_MAX means cut */
	char route[ROUTE_MAX];
	__u8 proto_major; /* the response's HTTP version (client spans); 0 when unknown */
	__u8 proto_minor;
	__u8 app_span_open; /* an application span that started inside this one is still open */
	__u8 _pad[5];
};

/* trace.SpanKindServer of the OpenTelemetry Go API */
#define OTEL_SPAN_KIND_SERVER 2

/*
 * The application's SERVER span for a request that braid's own span covered
 * (otelhttp, otelgrpc): sent when it ends, so that user space exports the
 * application's span alone for the request and links braid's samples to it.
 */
struct app_server_span_event {
	struct event_header header;
	struct trace_context span;    /* the application's */
	struct trace_context covered; /* braid's span that was its goroutine's context when it started */
};

/* How a value went from a sender to a receiver (struct handoff_event.phase). */
enum braid_handoff {
	HANDOFF_DIRECT = 0, /* one goroutine waited, the other copied the value to or from it */
	HANDOFF_QUEUED = 1, /* a spanned sender's value entered a buffer slot; no receiver yet */
	HANDOFF_DEQUEUED = 2, /* a value a spanned sender queued reached its receiver */
};

/* --auto-sdk: a process's switch to go.opentelemetry.io/auto/sdk is off; user space turns it on. */
struct auto_sdk_switch_event {
	struct event_header header;
	__u64 flag; /* the address of the bool (otel/internal/global's autoInstEnabled points to it) */
};

/* --auto-sdk: at most this much of a span's JSON goes in one event; the rest is cut (counted) */
#define API_SPAN_JSON_MAX 16384

/*
 * --auto-sdk: a span the program ended, as go.opentelemetry.io/auto/sdk
 * serialized it (OTLP/JSON TracesData), with what braid knows of it itself.
 * Variable length: the record ends after json_len bytes of json.
 */
struct api_span_event {
	struct event_header header;
	struct trace_context span;
	__u8 parent_span_id[8]; /* all zero: a root span */
	__u64 start_ns;         /* when it started (monotonic); 0 when braid did not see it start */
	__u32 json_size;        /* the JSON's whole size: more than json_len means cut */
	__u32 json_len;
	char json[API_SPAN_JSON_MAX];
};

/*
 * A Go channel hand-off between two goroutines. DIRECT is sent only when both
 * have a span; QUEUED and DEQUEUED whenever the sender has one (the receiver's
 * context is all zero when it has none), so that user space knows when no
 * receiver is left to wait for.
 */
struct handoff_event {
	struct event_header header; /* goid: the goroutine that ran the probe */
	__u64 chan;                 /* the *hchan */
	__u64 capacity;             /* its buffer size; 0: unbuffered */
	__u64 sender_goid;
	__u64 receiver_goid;
	struct trace_context sender;
	struct trace_context receiver;
	__u32 phase;
	__u8 sender_select;   /* the side used a select statement */
	__u8 receiver_select;
	__u8 _pad[2];
};

/* Counters in the per-CPU array "tracer_stats". */
enum braid_stat {
	STAT_RINGBUF_FULL = 0,
	STAT_GOROUTINE_MAP_FULL = 1,
	STAT_READ_FAILED = 2,
	STAT_PROPAGATED = 3,
	STAT_PROPAGATE_SKIPPED = 4, /* no room in the buffer, or the request had a traceparent */
	STAT_INHERITED = 5,
	STAT_HEADERS_TOO_MANY = 6, /* a header map too big to walk whole: traceparent may be missed */
	STAT_SELECT_TOO_BIG = 7, /* a buffered send of a select of more than SELECT_CASES_MAX sends: maybe not paired */
	STAT_APP_SPANS_FULL = 8, /* an application span could not be followed: app_spans or goroutines full */
	STAT_AUTO_SDK_MISSED = 9, /* --auto-sdk: spans that stayed no-ops: the program made them before braid turned its SDK on */
	STAT_AUTO_SDK_UNKNOWN = 10, /* --auto-sdk: span ends without a context from braid (started before it, or forgotten) */
	STAT_AUTO_SDK_LOST = 11, /* --auto-sdk: spans not exported: another thread's used the CPU's scratch buffer */
	STAT_END_KEPT = 12, /* span ends that found the ring buffer full, kept in lost_ends for braid to read */
	STAT_CTX_MAP_REFUSED = 13, /* traces_ctx_v1 updates or deletes the kernel refused */
	STAT_COUNT = 14,
};

#endif /* BRAID_TRACER_H */
