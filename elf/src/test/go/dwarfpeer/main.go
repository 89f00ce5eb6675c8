// Command dwarfpeer prints, with Go's own debug/dwarf, the size and every
// member offset of the named struct types of a binary, so that braid's tests
// can compare GoDwarf with the standard library's reader.
//
// Usage: dwarfpeer BINARY STRUCT...
//
// Output: "size <struct> <bytes>" and "member <struct> <member> <offset>".
//
// With STRUCT "-subprograms" it prints "subprogram <low_pc hex>" for every
// function that has debug info instead (Go and assembly code; the linker
// emits none for cgo's C code).
package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
)

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fail(err)
	}
	d, err := f.DWARF()
	if err != nil {
		fail(err)
	}
	if len(os.Args) == 3 && os.Args[2] == "-subprograms" {
		subprograms(d)
		return
	}
	wanted := map[string]bool{}
	for _, name := range os.Args[2:] {
		wanted[name] = true
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fail(err)
		}
		if e == nil {
			return
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if e.Tag != dwarf.TagStructType || !wanted[name] {
			continue
		}
		wanted[name] = false // the first definition wins, as in braid
		if size, ok := e.Val(dwarf.AttrByteSize).(int64); ok {
			fmt.Printf("size %s %d\n", name, size)
		}
		for e.Children {
			m, err := r.Next()
			if err != nil {
				fail(err)
			}
			if m == nil || m.Tag == 0 {
				break
			}
			if m.Tag != dwarf.TagMember {
				r.SkipChildren()
				continue
			}
			member, _ := m.Val(dwarf.AttrName).(string)
			if off, ok := m.Val(dwarf.AttrDataMemberLoc).(int64); ok {
				fmt.Printf("member %s %s %d\n", name, member, off)
			}
			if m.Children {
				r.SkipChildren()
			}
		}
	}
}

func subprograms(d *dwarf.Data) {
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fail(err)
		}
		if e == nil {
			return
		}
		if lowpc, ok := e.Val(dwarf.AttrLowpc).(uint64); ok && e.Tag == dwarf.TagSubprogram {
			fmt.Printf("subprogram %x\n", lowpc)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dwarfpeer:", err)
	os.Exit(1)
}
