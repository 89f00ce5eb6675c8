package dev.braid.profiler;

/**
 * A file mapped into a process: an executable, a shared library, or the kernel.
 *
 * @param start first virtual address of the mapping
 * @param limit first address after it
 * @param fileOffset offset in the file that {@code start} maps
 * @param path the file's path ({@code [kernel.kallsyms]} for the kernel, empty when unknown)
 * @param buildId the GNU build id in hex, or empty
 */
public record Mapping(long start, long limit, long fileOffset, String path, String buildId) {

  /** Stands for frames whose address lies in no known mapping. */
  public static final Mapping UNKNOWN = new Mapping(0, 0, 0, "", "");

  /** The kernel's text, as kallsyms names it. */
  public static final Mapping KERNEL = new Mapping(0, 0, 0, "[kernel.kallsyms]", "");
}
