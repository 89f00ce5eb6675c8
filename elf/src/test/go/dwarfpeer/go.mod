module braid.dev/elftest/dwarfpeer

go 1.18
