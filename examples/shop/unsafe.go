package main

import "unsafe"

// unsafePointer hands a Go pointer to a raw syscall.
func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }
