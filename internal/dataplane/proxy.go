package dataplane

import (
	"errors"
	"io"
	"net"
	"sync"
)

// Proxy listens on an instance's endpoint address and forwards each connection to the server
// that holds the instance's identifier now. A closed proxy refuses connections (nothing listens
// on the address).
//
// Tests also put one between a client and a server to play the network: Admit(false) refuses
// new connections (closed at once, as by a server that is down), Drop loses the open ones, and
// Hold keeps a new connection in its handshake (the server's greeting reaches the client, the
// client's answer waits until Release), so the server shows a session that has not logged in.
type Proxy struct {
	addr string

	mu     sync.Mutex
	ln     net.Listener
	target string
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	// closedToNew: the instance's security groups let no client in; connections already
	// forwarded go on (security groups are stateful), new ones are closed at once.
	closedToNew bool
	// held: non-nil while Hold is on; what clients of connections accepted meanwhile send waits
	// until it is closed (Release, Close).
	held     chan struct{}
	accepted int
}

// NewProxy returns a closed proxy for addr (host:port). Port 0 picks a free port when the proxy
// opens; Addr then says which.
func NewProxy(addr string) *Proxy { return &Proxy{addr: addr, conns: map[net.Conn]bool{}} }

// Addr returns the address the proxy serves.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Open starts accepting connections for target (a server's private listener). Opening an open
// proxy changes its target for new connections.
func (p *Proxy) Open(target string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	if _, port, _ := net.SplitHostPort(p.addr); port == "0" {
		p.addr = ln.Addr().String()
	}
	p.ln = ln
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

// Admit says whether new connections are let through (the instance's security groups have an
// inbound rule for its port); connections already forwarded are not touched.
func (p *Proxy) Admit(admit bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closedToNew = !admit
}

// Hold makes the connections accepted from now on wait in their handshake: the server's side
// is forwarded, the client's waits until Release (or Close).
func (p *Proxy) Hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

// Release forwards what the held connections' clients sent and ends Hold.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.release()
}

func (p *Proxy) release() {
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// Accepted returns how many connections the proxy has let through (refused ones not counted).
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// IsOpen reports whether the proxy accepts connections.
func (p *Proxy) IsOpen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ln != nil
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.mu.Lock()
		if p.ln != ln {
			p.mu.Unlock()
			c.Close()
			return
		}
		if p.closedToNew {
			p.mu.Unlock()
			c.Close() // where a security group would drop the packets, the client sees EOF at once
			continue
		}
		target, held := p.target, p.held
		p.conns[c] = true
		p.accepted++
		p.mu.Unlock()
		go p.forward(c, target, held)
	}
}

// forward copies both ways between c and a new connection to target; with held non-nil the
// client's side starts once held is closed.
func (p *Proxy) forward(c net.Conn, target string, held chan struct{}) {
	defer func() {
		c.Close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	p.mu.Lock()
	if !p.conns[c] { // dropped while dialling
		p.mu.Unlock()
		up.Close()
		return
	}
	p.conns[up] = true
	p.mu.Unlock()
	defer func() {
		up.Close()
		p.mu.Lock()
		delete(p.conns, up)
		p.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	ended := make(chan struct{})
	defer close(ended)
	go func() {
		if held != nil {
			select {
			case <-held:
			case <-ended: // the server's side ended first
				return
			}
		}
		_, _ = io.Copy(up, c)
		done <- struct{}{}
	}()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// Drop closes every forwarded connection; the proxy keeps accepting new ones.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Close stops accepting (new connections are refused) and drops every forwarded connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.release()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
		p.wg.Wait()
	}
}
