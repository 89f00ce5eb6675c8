package main

import "time"

// Each function burns CPU for d in a loop of its own, so that a sample's
// innermost Go frame names the work it was taken in.

//go:noinline
func priceCompute(d time.Duration) uint64 { return burn(d, 0x9e3779b97f4a7c15) }

//go:noinline
func outerBurn(d time.Duration) uint64 { return burn(d, 0xc2b2ae3d27d4eb4f) }

//go:noinline
func innerBurn(d time.Duration) uint64 { return burn(d, 0x165667b19e3779f9) }

//go:noinline
func outerTail(d time.Duration) uint64 { return burn(d, 0x27d4eb2f165667c5) }

//go:noinline
func spawnedCompute(d time.Duration) uint64 { return burn(d, 0x85ebca77c2b2ae63) }

//go:noinline
func afterHandedEnd(d time.Duration) uint64 { return burn(d, 0xff51afd7ed558ccd) }

//go:noinline
func afterDelegatedEnd(d time.Duration) uint64 { return burn(d, 0x94d049bb133111eb) }

//go:noinline
func plainBurn(d time.Duration) uint64 { return burn(d, 0xc4ceb9fe1a85ec53) }

// compactIndex burns CPU forever, outside any request.
//
//go:noinline
func compactIndex(seed uint64) {
	for {
		seed += burn(10*time.Millisecond, seed|1)
	}
}

// burn is inlined into each caller: xorshift rounds until d has passed,
// reading the clock every 16k rounds.
func burn(d time.Duration, x uint64) uint64 {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i := 0; i < 1<<14; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}
