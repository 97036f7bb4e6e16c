package dataplane

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// echoServer greets each connection with "hello" and echoes every line it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := c.Write([]byte("hello\n")); err != nil {
					return
				}
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestProxyHoldsRefusesAndDrops: the network a test plays with a Proxy. A held connection gets
// the server's greeting but its client's answer reaches the server only after Release; Drop
// ends open connections; Admit(false) closes new ones at once, uncounted; Close refuses.
func TestProxyHoldsRefusesAndDrops(t *testing.T) {
	p := NewProxy("127.0.0.1:0")
	if err := p.Open(echoServer(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if strings.HasSuffix(p.Addr(), ":0") {
		t.Fatalf("Addr %s: want the port the proxy listens on", p.Addr())
	}
	dial := func() (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	read := func(r *bufio.Reader, want string) {
		t.Helper()
		if line, err := r.ReadString('\n'); err != nil || line != want+"\n" {
			t.Fatalf("read %q, %v: want %q", line, err, want)
		}
	}

	p.Hold()
	a, ar := dial()
	read(ar, "hello")
	if _, err := a.Write([]byte("a\n")); err != nil {
		t.Fatal(err)
	}
	// Nothing comes back while held: the echo would need the server to have read the line.
	_ = a.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if line, err := ar.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a held connection's client reached the server (read %q, %v)", line, err)
	}
	_ = a.SetReadDeadline(time.Time{})
	p.Release()
	read(ar, "a")

	p.Drop()
	if line, err := ar.ReadString('\n'); err == nil {
		t.Fatalf("a dropped connection read %q", line)
	}

	p.Admit(false)
	_, br := dial()
	if line, err := br.ReadString('\n'); err == nil {
		t.Fatalf("a refused connection read %q", line)
	}
	p.Admit(true)
	c, cr := dial()
	read(cr, "hello")
	if _, err := c.Write([]byte("c\n")); err != nil {
		t.Fatal(err)
	}
	read(cr, "c")
	if n := p.Accepted(); n != 2 {
		t.Fatalf("Accepted %d: want 2 (the refused connection not counted)", n)
	}

	addr := p.Addr()
	p.Close()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("a closed proxy accepted a connection")
	}
}
