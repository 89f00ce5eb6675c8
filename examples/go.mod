module braid.dev/examples

go 1.22
