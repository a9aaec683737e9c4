package auth

import (
	"net/netip"
	"strings"
)

// SourceAllowed reports whether ip is inside one of cidrs (plain addresses
// count as /32). An empty list allows any address, as in the original.
func SourceAllowed(ip string, cidrs []string) bool {
	if len(cidrs) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, c := range cidrs {
		if !strings.Contains(c, "/") {
			c += "/32"
		}
		p, err := netip.ParsePrefix(c)
		if err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}
