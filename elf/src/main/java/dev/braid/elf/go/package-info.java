/**
 * Reading Go binaries (Go 1.18 through 1.26, linux/amd64) without running them: the toolchain's build info
 * ({@link dev.braid.elf.go.GoBuildInfo}), the runtime's function and line tables with inline expansion
 * ({@link dev.braid.elf.go.Pclntab}), and struct layouts from DWARF ({@link dev.braid.elf.go.GoDwarf}).
 *
 * <p>Facts about the binary formats come from the Go runtime and linker sources of each release
 * (runtime/symtab.go, runtime/symtabinl.go, cmd/link/internal/ld/pcln.go and symtab.go, debug/buildinfo); comments
 * name the release a layout depends on. Readers work from an open {@link dev.braid.elf.ElfFile} owned by the
 * caller; all are safe for concurrent use. A file that is not a supported Go binary gives
 * {@link dev.braid.elf.go.UnsupportedGoBinaryException}; a corrupt one {@link dev.braid.elf.ElfException}.
 */
package dev.braid.elf.go;
