// Package mx draws the DNS picture of a mail domain: where mail for it
// goes (MX records, or the implicit MX), whether those hosts resolve, their
// reverse DNS, and the policy records around them (SPF, DMARC, MTA-STS,
// TLS-RPT, DANE TLSA).
//
// Lookups are concurrent and bounded (Options.Concurrency), and results
// stream out as Events while they arrive, so a whole picture takes about as
// long as its slowest chain of queries (MX, then A/AAAA, then PTR, then the
// forward confirmation) rather than the sum of all of them.
//
// All DNS traffic goes through the small Resolver interface. Client, the
// implementation in this package, uses github.com/miekg/dns (v1, which is
// fixes-only upstream; the interface lets a later version replace it): UDP
// with EDNS0 and the DO bit, a retry over TCP when the answer is truncated
// (miekg's Exchange does not do that itself), per-query timeouts and
// retries, and context cancellation that closes the socket at once.
//
// Implemented specifications:
//
//   - RFC 1035 (DNS), RFC 6891 (EDNS0; 4096-byte UDP payload), RFC 7766
//     (TCP when truncated), RFC 3225 (DO bit), RFC 6840 §5.7 (AD bit in
//     queries), RFC 2308 (NXDOMAIN versus NODATA).
//   - RFC 5321 §5.1 (MX ordering, equal preferences, implicit MX when there
//     is no MX record, MX targets must not be aliases or IP literals), and
//     RFC 2181 §10.3 (an MX must not point to a CNAME).
//   - RFC 7505 (null MX: "MX 0 ." means the domain accepts no mail).
//   - RFC 7208 (SPF: one record, at most 10 DNS-querying terms, §4.5 and
//     §4.6.4), RFC 7489 (DMARC), RFC 8461 (MTA-STS TXT record), RFC 8460
//     (SMTP TLS reporting), RFC 7672 and RFC 6698 (DANE TLSA for SMTP).
//   - RFC 6761 and RFC 2606 (special-use and example names, which are not
//     public, so loopback addresses there are not a problem).
//   - RFC 5890/5891 (internationalised domain names, through diag/addr).
package mx
