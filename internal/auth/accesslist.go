package auth

import (
	"fmt"
	"net"
	"net/netip"
)

// accessList is a credential's allowed client ranges; empty allows every
// address.
type accessList []netip.Prefix

// parseAccessList reads entries written as an IP address or a CIDR range.
func parseAccessList(entries []string) (accessList, error) {
	out := make(accessList, 0, len(entries))
	for _, e := range entries {
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, unmapPrefix(p).Masked())
			continue
		}
		ip, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("access list entry %q is neither an IP address nor a CIDR range", e)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// unmapPrefix turns an IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) into
// its IPv4 form so it matches IPv4 clients.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// allows reports whether the client at remoteAddr (an http.Request's
// RemoteAddr, "ip:port") may use the credential.
func (l accessList) allows(remoteAddr string) bool {
	if len(l) == 0 {
		return true
	}
	ip, err := netip.ParseAddr(clientIP(remoteAddr))
	if err != nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range l {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the address part of an http.Request's RemoteAddr. X-Forwarded-
// For and similar headers are deliberately not consulted: any client could
// forge them.
func clientIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}
