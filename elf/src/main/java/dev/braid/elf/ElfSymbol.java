package dev.braid.elf;

/**
 * A defined ELF symbol: {@code value} is its link-time address, {@code size} its size in bytes (0 when the symbol
 * table does not say).
 */
public record ElfSymbol(String name, long value, long size) {}
