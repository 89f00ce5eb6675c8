package dev.braid.elf.go;

/**
 * One source position of a pc: the function, file and line, and whether this frame exists only because the
 * compiler inlined {@code function} into its caller (the next frame). The function is named as the Go runtime's
 * {@code runtime.Frame.Function} (and so runtime/pprof) names it: generic type arguments print as "[...]". The file
 * is "?" and the line 0 when the pclntab has no position for the pc (e.g. cgo's C functions).
 */
public record GoFrame(String function, String file, int line, boolean inlined) {}
