package dev.braid.profiler;

import dev.braid.bpf.TraceContext;
import java.util.Optional;

/**
 * One CPU sample as the sampler took it: who ran, when, in which span, and the raw stacks.
 *
 * @param monotonicNanos CLOCK_MONOTONIC time of the sample
 * @param context the thread's traces_ctx_v1 entry at sample time, when it had a valid one
 * @param userStack user-space program counters, leaf first (do not modify)
 * @param kernelStack kernel program counters, leaf first (do not modify)
 * @param userSpWord the word at the user stack pointer: the return address when the user leaf is
 *     a function without a frame, which the frame-pointer walk of the stack cannot see
 */
public record StackSample(
    int pid,
    int tid,
    long monotonicNanos,
    int cpu,
    String comm,
    Optional<TraceContext> context,
    long[] userStack,
    long[] kernelStack,
    long userSpWord) {}
