// Command chanbench times Go channel operations, so that braid's bench can
// tell what its channel probes add to each one. Each mode runs for -d and
// prints "MODE NS_PER_OP OPS"; an operation is one send and its receive.
//
//	unbuffered  two goroutines ping-pong over unbuffered channels (one side always waits)
//	buffered    a producer fills, a consumer drains, a channel of capacity 64
//	select      ping-pong where both sides use a two-case select
package main

import (
	"flag"
	"fmt"
	"time"
)

func main() {
	d := flag.Duration("d", 2*time.Second, "how long each mode runs")
	settle := flag.Duration("settle", 0, "wait this long first (for a tracer to attach)")
	flag.Parse()
	time.Sleep(*settle)
	for _, m := range []struct {
		name string
		run  func(stop <-chan struct{}) int
	}{{"unbuffered", pingPong}, {"buffered", producerConsumer}, {"select", selectPingPong}} {
		stop := make(chan struct{})
		time.AfterFunc(*d, func() { close(stop) })
		start := time.Now()
		ops := m.run(stop)
		fmt.Printf("%s %.1f %d\n", m.name, float64(time.Since(start).Nanoseconds())/float64(ops), ops)
	}
}

// pingPong counts round trips over two unbuffered channels: 2 operations each.
func pingPong(stop <-chan struct{}) int {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	n := 0
	for ; ; n += 2 {
		select {
		case <-stop:
			close(ping)
			return n
		default:
		}
		ping <- n
		<-pong
	}
}

// producerConsumer counts values through a buffered channel.
func producerConsumer(stop <-chan struct{}) int {
	c := make(chan int, 64)
	done := make(chan int)
	go func() {
		n := 0
		for range c {
			n++
		}
		done <- n
	}()
	for i := 0; ; i++ {
		if i%64 == 0 {
			select {
			case <-stop:
				close(c)
				return <-done
			default:
			}
		}
		c <- i
	}
}

// selectPingPong is pingPong with a select on both sides. The second case of
// each select never fires: nobody receives from neverSent, nobody sends to
// neverReceived.
func selectPingPong(stop <-chan struct{}) int {
	ping, pong := make(chan int), make(chan int)
	neverSent, neverReceived := make(chan int), make(chan int)
	go func() {
		for {
			select {
			case v, ok := <-ping:
				if !ok {
					return
				}
				select {
				case pong <- v:
				case neverSent <- v:
				}
			case <-neverReceived:
			}
		}
	}()
	n := 0
	for ; ; n += 2 {
		select {
		case <-stop:
			close(ping)
			return n
		default:
		}
		select {
		case ping <- n:
		case neverSent <- n:
		}
		select {
		case <-pong:
		case <-neverReceived:
		}
	}
}
