// The `gelf` exporter: GELF 1.1 to Graylog (or any GELF input) over UDP or TCP. Properties:
// `host` (required), `port` (default 12201), `transport` (udp or tcp, default udp),
// `sourceHost` (the GELF `host` field, default this machine's name), `chunkSize` (UDP: the
// largest datagram, chunk header included, default 8192, 512-65000), `timeout` (TCP, default
// 30 s; connecting waits at most 5 s).
//
// One GELF message per event, uncompressed JSON:
//   {"version":"1.1","host":"...","short_message":"...","full_message":"...",
//    "timestamp":1763726054.123456,"level":6,"_event_id":"...","_job_id":"...",
//    "_sequence":7,"_namespace":"...","_component_id":"...","_source":"stdout",
//    "_<field>":...}
// `level` is the syslog severity (emergency 0 ... debug 7). A message with several lines or
// over 250 bytes gets its first line (cut to 250 bytes) as short_message and the whole text as
// full_message. Fields become additional fields `_<name>`: characters outside [A-Za-z0-9_.-]
// become '_', a name runner uses itself (or "id", which GELF reserves) gets the prefix
// "field_"; strings and numbers stay as they are, booleans become "true"/"false", objects and
// arrays their JSON text, nulls are left out.
//
// UDP: a message larger than chunkSize goes as GELF chunks (magic 1e 0f, 8-byte message id,
// sequence number, count; at most 128 chunks; a message that would need more has its text cut
// and gets "_truncated":true). UDP confirms nothing: send() returns once every datagram was
// handed to the kernel; a receiver that is down or drops datagrams loses them (an ICMP "port
// unreachable" that comes back fails the next send). TCP: messages are NUL-terminated frames on
// one kept connection; send() returns once every byte was written and the connection is still
// up; a write error or a closed connection is an ExportError.
#pragma once

#include "shipper/exporter_common.hpp"

#include <memory>

namespace runner::shipper {

std::unique_ptr<LogExporter> make_gelf_exporter(ExporterProperties& properties);

}  // namespace runner::shipper
