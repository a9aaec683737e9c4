package callbacks

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// cgnat is the carrier-grade NAT range (RFC 6598), private in all but name.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Forbidden reports whether a callback may never reach ip: loopback,
// private (RFC 1918, unique local IPv6), carrier-grade NAT, link-local (the
// cloud's metadata service, 169.254.169.254 and fd00:ec2::254, is in
// these), multicast and unspecified addresses.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip) ||
		ip.Is4() && ip.As4()[0] == 0
}

// allowed reports whether ip may be called: never a forbidden address,
// but with allowLocal (the local stack, whose receivers are on loopback) a
// loopback one. Link-local (the metadata service), private, unspecified and
// multicast addresses stay refused locally too.
func allowed(ip netip.Addr, allowLocal bool) bool {
	return !Forbidden(ip) || allowLocal && ip.Unmap().IsLoopback()
}

// CheckHost refuses a host that is a forbidden address, or a name of the
// machine itself; with allowLocal, loopback (by address or as localhost)
// is allowed.
func CheckHost(host string, allowLocal bool) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if (h == "localhost" || strings.HasSuffix(h, ".localhost")) && !allowLocal {
		return fmt.Errorf("a URL whose host is not this machine")
	}
	if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil && !allowed(ip, allowLocal) {
		if allowLocal { // loopback is allowed here: do not name it
			return fmt.Errorf("a URL whose host is not a private, link-local, multicast or unspecified address")
		}
		return fmt.Errorf("a URL whose host is not a loopback, private, link-local, multicast or unspecified address")
	}
	return nil
}

// NewClient returns the HTTP client of callbacks (and of remote content):
// it resolves each host at each connection and refuses forbidden addresses
// (so a name that changes to point inside is refused then; allowLocal lets
// loopback through, for the local stack's receivers), follows no redirect,
// uses no proxy and gives up after AttemptTimeout.
func NewClient(allowLocal bool) *http.Client {
	dialer := &net.Dialer{Timeout: AttemptTimeout}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			var last error = fmt.Errorf("%s resolves to no address", host)
			for _, ip := range ips {
				if !allowed(ip, allowLocal) {
					last = fmt.Errorf("%s resolves to a forbidden address", host)
					continue
				}
				conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
				if err == nil {
					return conn, nil
				}
				last = err
			}
			return nil, last
		},
		TLSHandshakeTimeout:   AttemptTimeout,
		ResponseHeaderTimeout: AttemptTimeout,
		MaxIdleConnsPerHost:   16,
	}
	return &http.Client{Transport: transport, Timeout: AttemptTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
