/*
 * Every size and time limit of boundary, by name (STYLE rule 8).  Code and
 * tests use the names, never the numbers.
 */
#ifndef LIMITS_H
#define LIMITS_H

/* Hosts (RFC 1035 section 2.3.4). */
#define MAX_HOST_LEN 253     /* canonical host, without port or trailing dot */
#define MAX_LABEL_LEN 63     /* one DNS label */
#define MAX_HOST_LABELS 127  /* labels in a host: 253 bytes allow at most 127 */

/* Paths. */
#define MAX_PATH_LEN 8192    /* request path (before the query), raw or canonical */
#define MAX_SEGMENT_LEN 255  /* one literal path segment in a rule */
#define MAX_PATH_SEGMENTS 1024 /* segments in a request path */

/* Methods. */
#define MAX_METHOD_LEN 32    /* an HTTP method token */
#define MAX_POLICY_METHODS 31 /* distinct method names in one policy */

/* Rules and policies. */
#define MAX_RULE_LEN 4096    /* one rule string */
#define MAX_RULES 1000000    /* rules in one policy */
#define MAX_PATHS_PER_RULE 256 /* comma-separated path patterns in one rule */
#define MAX_PATTERN_ELEMS 128 /* labels or segments in one pattern */
#define MAX_DFA_STATES 4000000 /* states of one compiled automaton */
#define MAX_POLICY_STRINGS (16u << 20) /* string section of a .bpol: 24-bit offsets */
#define MAX_POLICY_FILE (1u << 30) /* largest .bpol the loader maps */
#define MAX_CONFIG_FILE (16u << 20) /* largest config.yaml the compiler reads */

/* HTTP (used by the proxy runtime). */
#define MAX_REQ_HEAD 65536   /* request line + headers; beyond it: 431 */
#define MAX_HEADERS 100      /* header fields in one request head */
#define MAX_URL_LEN 16384    /* absolute URL accepted by url_parse */

/* TLS interception (ca.c, tls.c, hello.c). */
#define LEAF_CACHE_SIZE 1024 /* leaf certificates kept (LRU), pre-allocated */
#define LEAF_DER_MAX 2048    /* one DER leaf certificate */
#define LEAF_VALID_SECS (7 * 86400) /* leaf notAfter - now */
#define LEAF_REMINT_SECS (3 * 86400) /* a cached leaf older than this is re-minted */
#define CA_VALID_SECS (2 * 365 * 86400) /* a new CA's notAfter - now */
#define CERT_BACKDATE_SECS 3600 /* notBefore = now - this (clock skew) */
#define CA_FILE_MAX (64 * 1024) /* largest ca-cert.pem / ca-key.pem read */
#define HELLO_MAX_LEN 16384  /* ClientHello records (headers included) we buffer */
#define TLS_PREPEND_MAX (HELLO_MAX_LEN + 2048) /* bytes read before TLS starts */
#define TLS_ERR_LEN 512      /* tls_error_str() text (holds a host name) */

/* Audit (audit/).  Records are fixed size; longer fields are truncated. */
#define AUDIT_QUEUE_LEN 512  /* records in the ring shared by all sinks */
#define AUDIT_METHOD_MAX MAX_METHOD_LEN /* http_method bytes kept */
#define AUDIT_URL_MAX 4096   /* http_url bytes kept */
#define AUDIT_RULE_MAX 1024  /* matched_rule bytes kept */
#define AUDIT_HOST_MAX 272   /* host bytes kept: "[v6]" or name, ":port" */
#define AUDIT_SINK_BUF 65536 /* formatted bytes buffered per stderr/file sink */
#define AUDIT_FRAME_MAX 32768 /* agent socket frame payload (codec MaxMessageSize) */
#define AUDIT_BATCH_MAX 10   /* records per agent socket batch */
#define AUDIT_BATCH_DELAY 5.0 /* seconds a partial batch waits */
#define AUDIT_SOCK_RETRY 2.0 /* seconds between agent socket connect attempts */

/* HTTP heads and chunked bodies (runtime/http.c, runtime/chunk.c). */
#define MAX_RESP_HEAD 65536  /* status line + headers of an upstream response */
#define MAX_CHUNK_SIZE (1ULL << 62) /* largest chunk-size accepted */
#define MAX_CHUNK_LINE 4096  /* chunk-size line with extensions, without CRLF */
#define MAX_CHUNK_TRAILER 65536 /* trailer section of a chunked body */
#define MAX_CHUNK_SPANS 16   /* data spans reported by one chunk_feed() call */

/* Proxy connections (runtime/conn.c, runtime/proxy.c). */
#define MAX_CONNS 32768      /* client connections served at once */
#define MAX_LISTEN_FDS 4     /* listening sockets of one proxy (IPv4, IPv6, ...) */
#define MAX_WORK_AREAS 2048  /* connections busy at once (~280 KiB each) */
#define CONN_IO_BUF 16384    /* bytes per body relay buffer */
#define CONN_HEAD_OUT (MAX_REQ_HEAD + 4096) /* a rebuilt head, with room */
#define TIMEOUT_HEAD 30.0    /* seconds for a request head (or TLS handshake) */
#define TIMEOUT_IDLE 60.0    /* seconds a kept-alive client may stay silent */
#define TIMEOUT_CONNECT 10.0 /* seconds to resolve and connect upstream */
#define TIMEOUT_IO 300.0     /* seconds without progress while forwarding */
#define SHUTDOWN_GRACE 5.0   /* seconds in-flight requests get at shutdown */
#define AUDIT_FLUSH_TIMEOUT 5.0 /* seconds audit_flush may block at exit */
#define MAX_UP_ADDRS 8       /* upstream addresses tried in turn */
#define UPOOL_MAX 256        /* idle upstream connections kept */
#define MAX_HELD_UPSTREAMS 1024 /* idle clients that keep their own upstream */
#define UPOOL_IDLE_TIMEOUT 30.0 /* seconds an idle upstream connection is kept */

/* Upstream name resolution (runtime/resolve.c, runtime/connect_to.c). */
#define TIMEOUT_RESOLVE 5.0  /* seconds one upstream name lookup may take */
#define RESOLVE_MAX_ADDRS 8  /* addresses reported per lookup (IPv4 first) */
#define RESOLVE_MAX_PENDING 1024 /* c-ares lookups in flight, abandoned ones included */
#define ARESEV_MAX_SOCKS 16  /* sockets of one c-ares channel (aresev.c): resolver, each DNS forwarder */
#define RESOLVE_TRY_MS 1000  /* c-ares per-try timeout, doubled per round */
#define RESOLVE_TRIES 3      /* c-ares tries per server */
#define RESOLVE_SOCK_RCVBUF (1 << 20) /* c-ares UDP receive buffer (capped by net.core.rmem_max) */
#define MAX_CONNECT_TO 64    /* --connect-to entries */

/* ---- Jail DNS server (runtime/dns.c) ------------------------------------ */
#define DNS_MAX_SOCKS 8      /* sockets handed to one DNS server */
#define DNS_MAX_QUERY 512    /* largest query accepted (UDP datagram or TCP message) */
#define DNS_UDP_MAX 512      /* UDP reply size without EDNS (RFC 1035) */
#define DNS_EDNS_MAX 4096    /* UDP reply size relayed at most (EDNS clients) */
#define DNS_TCP_MAX_MSG 65535 /* one TCP DNS message (2-byte length prefix) */
#define DNS_UDP_BURST 64     /* datagrams served (TCP clients accepted) per wakeup */
#define MAX_DNS_TCP 64       /* TCP DNS connections served at once */
#define DNS_TCP_TIMEOUT 10.0 /* seconds a TCP DNS client may stay silent or stalled */
#define DNS_FWD_MAX_INFLIGHT 256 /* forwarded queries in flight (--use-real-dns) */
#define DNS_FWD_TRY_MS 1500  /* c-ares per-try timeout when forwarding, doubled per round */
#define DNS_FWD_TRIES 2      /* c-ares tries per upstream server when forwarding */
/* ---- end of jail DNS server --------------------------------------------- */

/* jail mode: the proxy's TLS set-up waits this long after start (seconds) */
#define WARM_DELAY 0.05

#endif
