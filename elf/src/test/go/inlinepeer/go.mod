module braid.dev/elftest/inlinepeer

go 1.18
