// Command dwarfoffsets prints struct member offsets from a Go binary's DWARF
// with the standard library's debug/dwarf: an independent reader that the
// tracer's own offsets are checked against.
//
//	dwarfoffsets BINARY STRUCT.MEMBER...   (STRUCT as DWARF names it, e.g. net/http.Request)
//
// Prints "STRUCT.MEMBER OFFSET" per argument, or "STRUCT.MEMBER -" when absent.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"log"
	"os"
	"strings"
)

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	d, err := f.DWARF()
	if err != nil {
		log.Fatal(err)
	}
	want := map[string]map[string]int64{}
	for _, arg := range os.Args[2:] {
		i := strings.LastIndex(arg, ".")
		if want[arg[:i]] == nil {
			want[arg[:i]] = map[string]int64{}
		}
		want[arg[:i]][arg[i+1:]] = -1
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			log.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		members, ok := want[fmt.Sprint(e.Val(dwarf.AttrName))]
		if !ok || !e.Children {
			continue
		}
		for {
			c, err := r.Next()
			if err != nil {
				log.Fatal(err)
			}
			if c == nil || c.Tag == 0 {
				break
			}
			name := fmt.Sprint(c.Val(dwarf.AttrName))
			if _, ok := members[name]; ok && c.Tag == dwarf.TagMember {
				members[name] = c.Val(dwarf.AttrDataMemberLoc).(int64)
			}
			if c.Children {
				r.SkipChildren()
			}
		}
	}
	for _, arg := range os.Args[2:] {
		i := strings.LastIndex(arg, ".")
		if off := want[arg[:i]][arg[i+1:]]; off >= 0 {
			fmt.Println(arg, off)
		} else {
			fmt.Println(arg, "-")
		}
	}
}
