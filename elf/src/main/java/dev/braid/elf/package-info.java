/**
 * Reading x86-64 ELF64 little-endian files, with no knowledge of Go: headers, sections (zlib-compressed ones
 * inflated), program headers, notes (GNU build ID), function symbols and relative relocations.
 *
 * <p>{@link dev.braid.elf.ElfFile} owns a read-only mapping of the file and is the only thing to close; everything
 * else is either a heap value or a view that must not outlive it. All types are safe for concurrent readers. Every
 * problem with a file is an unchecked {@link dev.braid.elf.ElfException} whose message starts with the file's path.
 */
package dev.braid.elf;
