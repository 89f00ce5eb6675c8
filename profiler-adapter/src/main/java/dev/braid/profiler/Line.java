package dev.braid.profiler;

/**
 * One source position of a symbolized frame.
 *
 * @param function the function's name as its language spells it ({@code net/http.(*conn).serve})
 * @param file the source file, or empty when unknown
 * @param line the 1-based line, or 0 when unknown
 */
public record Line(String function, String file, long line) {}
