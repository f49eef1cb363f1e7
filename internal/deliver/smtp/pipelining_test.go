package smtp_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
)

// scripted answers one SMTP session by hand, for messages messages. With
// pipelining it offers PIPELINING and answers MAIL, RCPT and DATA only
// once all three have arrived, so a client that waits for each reply
// stalls. Without, it fails when a command arrives before the reply to
// the one before. It returns the Config to reach it and the session's
// error, once the client has quit.
func scripted(t *testing.T, pipelining bool, messages int) (smtp.Config, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		done <- session(bufio.NewReader(c), c, pipelining, messages)
	}()
	a := ln.Addr().(*net.TCPAddr)
	return smtp.Config{Host: "127.0.0.1", Port: a.Port, TLS: "none", AllowInsecure: true,
		HelloName: "test.invalid", Timeout: 5 * time.Second}, done
}

func session(r *bufio.Reader, w net.Conn, pipelining bool, messages int) error {
	reply := func(s string) error { _, err := w.Write([]byte(s)); return err }
	line := func(want string) error {
		l, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", want, err)
		}
		if !strings.HasPrefix(l, want) {
			return fmt.Errorf("got %q, want %s", l, want)
		}
		if !pipelining && r.Buffered() > 0 {
			return fmt.Errorf("%q came with more behind it, before its reply, from a server without PIPELINING", l)
		}
		return nil
	}
	if err := reply("220 scripted ESMTP\r\n"); err != nil {
		return err
	}
	if err := line("EHLO "); err != nil {
		return err
	}
	ext := "250-scripted\r\n250 8BITMIME\r\n"
	if pipelining {
		ext = "250-scripted\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
	}
	if err := reply(ext); err != nil {
		return err
	}
	for range messages {
		for _, cmd := range []struct{ want, reply string }{{"MAIL FROM:", "250 2.1.0 OK\r\n"}, {"RCPT TO:", "250 2.1.5 OK\r\n"}, {"DATA", "354 go ahead\r\n"}} {
			if err := line(cmd.want); err != nil {
				return err
			}
			if !pipelining {
				if err := reply(cmd.reply); err != nil {
					return err
				}
			}
		}
		if pipelining {
			if err := reply("250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 go ahead\r\n"); err != nil {
				return err
			}
		}
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return fmt.Errorf("reading data: %w", err)
			}
			if l == ".\r\n" {
				break
			}
		}
		if err := reply("250 2.0.0 queued\r\n"); err != nil {
			return err
		}
	}
	if err := line("QUIT"); err != nil {
		return err
	}
	return reply("221 bye\r\n")
}

// TestPipelining: a server that offers PIPELINING gets MAIL, RCPT and
// DATA in one write (two round trips a message instead of four), and one
// that does not gets one command at a time.
func TestPipelining(t *testing.T) {
	for _, pipelining := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelining=%v", pipelining), func(t *testing.T) {
			cfg, done := scripted(t, pipelining, 3)
			s, err := smtp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.Send(t.Context(), message(i)); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

// TestGate: the sender asks the gate with the whole message with the
// server but its end; a gate that says no leaves nothing delivered, and
// the next message goes on a new connection.
func TestGate(t *testing.T) {
	for _, pipelining := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelining=%v", pipelining), func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{NoPipelining: !pipelining})
			s := newSender(t, config(srv, "none"))
			refused := errors.New("the ledger says someone else sent it")
			var asked int
			err := s.SendGated(t.Context(), message(0), func() error {
				asked++
				if st := srv.Stats(); st.Messages != 0 {
					t.Errorf("the server had %d messages before the gate", st.Messages)
				}
				return refused
			})
			if !errors.Is(err, deliver.ErrGate) || !errors.Is(err, refused) || asked != 1 {
				t.Fatalf("SendGated = %v after %d questions, want the gate's error once", err, asked)
			}
			if err := s.SendGated(t.Context(), message(1), func() error { asked++; return nil }); err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if asked != 2 || len(got) != 1 || got[0].To[0] != message(1).To.Email {
				t.Errorf("server got %d messages (asked %d times), want only message 1", len(got), asked)
			}
			if st := srv.Stats(); st.Connections != 2 {
				t.Errorf("%d connections, want 2: the held message's session is dropped", st.Connections)
			}
		})
	}
}

// TestRefusedThenNoReply: when a pipelined envelope is refused (450 to
// RCPT) and the reply to DATA then never comes in order (a 421 that ends
// the session, or a reply that comes after the time out), the replies
// still owed must not answer the next message's commands: the next
// message goes on a new connection and is delivered.
func TestRefusedThenNoReply(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		data func(net.Conn) // what the first session does after DATA
	}{
		{"421 to DATA", func(c net.Conn) { c.Write([]byte("421 4.3.2 closing\r\n")) }},
		{"late reply to DATA", func(c net.Conn) {
			time.Sleep(2 * timeout)
			c.Write([]byte("554 5.5.1 no valid recipients\r\n250 2.0.0 OK\r\n"))
			io.Copy(io.Discard, c) // until the client hangs up
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			second := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				r := bufio.NewReader(c)
				c.Write([]byte("220 scripted ESMTP\r\n"))
				r.ReadString('\n') // EHLO
				c.Write([]byte("250-scripted\r\n250 PIPELINING\r\n"))
				for range 3 { // MAIL, RCPT, DATA, in one write
					r.ReadString('\n')
				}
				c.Write([]byte("250 2.1.0 OK\r\n450 4.2.1 mailbox busy\r\n"))
				tc.data(c)
				c.Close()
				c, err = ln.Accept()
				if err != nil {
					second <- err
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				second <- session(bufio.NewReader(c), c, true, 1)
			}()
			a := ln.Addr().(*net.TCPAddr)
			s, err := smtp.New(smtp.Config{Host: "127.0.0.1", Port: a.Port, TLS: "none", AllowInsecure: true,
				HelloName: "test.invalid", Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), message(0))
			if k := kindOf(t, err); !k.Temporary || k.Code != 450 {
				t.Fatalf("message 0: %v (%+v), want the 450 to RCPT", err, k)
			}
			if err := s.Send(t.Context(), message(1)); err != nil {
				t.Fatalf("message 1: %v, want it sent on a new connection", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-second; err != nil {
				t.Errorf("second session: %v", err)
			}
		})
	}
}
