package dev.braid.elf.go;

/**
 * The decoded tables of one function that symbolization needs; built once per function, then shared.
 *
 * @param cuOffset the function's first slot in cutab (its compilation unit's file list)
 * @param inlineTreeOffset FUNCDATA_InlTree's offset from go:func.*, or {@link FuncRecord#NO_FUNCDATA}
 * @param sp the stack pointer's distance below the function's entry value, per pc (pcsp)
 */
record FuncTables(PcValueTable file, PcValueTable line, PcValueTable inlineIndex, long cuOffset,
    long inlineTreeOffset, PcValueTable sp) {}
