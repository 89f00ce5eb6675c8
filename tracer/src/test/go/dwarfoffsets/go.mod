module braid.dev/tracer/testtools/dwarfoffsets

go 1.21
