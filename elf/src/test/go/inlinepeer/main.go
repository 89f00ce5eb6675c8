// Command inlinepeer prints, for call stacks captured inside functions the
// compiler inlines, what the Go runtime itself says each return address
// stands for (runtime.CallersFrames expands inlined calls). braid's tests read
// the same binary with Pclntab and must agree, frame by frame.
//
// Output, one line per frame:
//
//	entry <function> <runtime entry address, hex>
//	frame <pc hex> <function> <file> <line> <inlined: true|false>
package main

import (
	"fmt"
	"os"
	"runtime"
)

type counter struct{ n int }

// leaf, middle, viaMethod and generic are small enough to be inlined into
// capture: each captured pc is inside capture, one or two inlined frames deep.
func leaf(buf []uintptr) int { return runtime.Callers(1, buf) }

func middle(buf []uintptr) int { return leaf(buf) }

func (c *counter) viaMethod(buf []uintptr) int { return runtime.Callers(1, buf) + c.n }

func generic[T any](buf []uintptr, _ T) int { return leaf(buf) }

//go:noinline
func capture(which int, buf []uintptr) int {
	c := &counter{}
	switch which {
	case 0:
		return middle(buf)
	case 1:
		return c.viaMethod(buf)
	default:
		return generic(buf, "x")
	}
}

func main() {
	for which := 0; which < 3; which++ {
		buf := make([]uintptr, 32)
		n := capture(which, buf)
		frames := runtime.CallersFrames(buf[:n])
		for {
			f, more := frames.Next()
			if f.Func != nil {
				fmt.Fprintf(os.Stdout, "entry %s %x\n", f.Function, f.Func.Entry())
			}
			fmt.Fprintf(os.Stdout, "frame %x %s %s %d %t\n", f.PC, f.Function, f.File, f.Line, f.Func == nil)
			if !more || f.Function == "main.capture" {
				break
			}
		}
	}
}
