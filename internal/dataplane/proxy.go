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
}

// NewProxy returns a closed proxy for addr (host:port).
func NewProxy(addr string) *Proxy { return &Proxy{addr: addr, conns: map[net.Conn]bool{}} }

// Addr returns the address the proxy serves.
func (p *Proxy) Addr() string { return p.addr }

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
		target := p.target
		p.conns[c] = true
		p.mu.Unlock()
		go p.forward(c, target)
	}
}

func (p *Proxy) forward(c net.Conn, target string) {
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
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
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
