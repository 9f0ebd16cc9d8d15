package api

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits bound what one client may hold of the HTTP server: a request
// read too slowly, a response written too slowly, a connection idle too
// long is closed; past MaxConnections a new connection is refused.
type Limits struct {
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
	MaxConnections int
}

// DefaultLimits are the limits of a server configured with none.
var DefaultLimits = Limits{ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
	MaxHeaderBytes: 64 << 10, MaxConnections: 1024}

// HTTPServer returns the http.Server for the API's handler with limits l
// (zero fields take DefaultLimits'). Serve it on Listener(ln, l), which
// applies the connection cap.
func (s *Server) HTTPServer(l Limits) *http.Server {
	l = l.orDefaults()
	s.writeTimeout = l.WriteTimeout
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: min(10*time.Second, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}

func (l Limits) orDefaults() Limits {
	d := DefaultLimits
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = d.MaxConnections
	}
	return l
}

// Listener caps the connections ln hands the server at l.MaxConnections:
// one over the cap is answered 503 (with Retry-After and Connection:
// close) and closed at once, so a flood of idle or slow clients costs a
// file descriptor for a moment, not a goroutine and a slot for good. The
// open and refused counts are in /metrics.
func (s *Server) Listener(ln net.Listener, l Limits) net.Listener {
	l = l.orDefaults()
	cl := &capListener{Listener: ln, max: int64(l.MaxConnections)}
	s.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_http_connections",
			Help: "HTTP connections open now.",
		}, func() float64 { return float64(cl.open.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_http_connections_refused_total",
			Help: "HTTP connections refused with 503 because http.max_connections were open.",
		}, func() float64 { return float64(cl.refused.Load()) }),
	)
	return cl
}

// refusal is what a connection over the cap reads before it is closed.
var refusal = func() string {
	body := `{"error":{"code":"unavailable","message":"too many connections; retry in a moment"}}` + "\n"
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

type capListener struct {
	net.Listener
	max           int64
	open, refused atomic.Int64
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.refused.Add(1)
			go func() {
				// Without reading the request: a client that sends
				// nothing must not hold this goroutine either.
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write([]byte(refusal))
				c.Close()
			}()
			continue
		}
		return &countedConn{Conn: c, l: l}, nil
	}
}

// countedConn gives its slot back when closed, once.
type countedConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// minDownloadRate is the slowest a download may go before the write
// bound cuts it: a one-hour 8 kHz recording (58 MB) has about 15 minutes
// beyond the write timeout.
const minDownloadRate = 64 << 10 // bytes a second

// downloadDeadline stretches the write bound of a response that sends the
// file f by its size at minDownloadRate.
func (s *Server) downloadDeadline(w http.ResponseWriter, f io.Seeker) {
	if s.writeTimeout <= 0 {
		return // not served through HTTPServer: no write bound to stretch
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return
	}
	d := s.writeTimeout + time.Duration(size/minDownloadRate)*time.Second
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}
