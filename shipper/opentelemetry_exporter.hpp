// The `opentelemetry` exporter: OTLP/HTTP with the JSON Protobuf encoding (lowerCamelCase
// names, 64-bit integers as decimal strings, enums as integers). Properties: `endpoint`
// (required; a URL with no path gets the OTLP logs path /v1/logs appended, one with a path is
// used as it is), `headers` (object; values through resolve_credential, e.g. an Authorization
// header), `serviceName` (resource attribute service.name, default "runner"), `chunk` (records
// per request), `timeout`. Kestra's names work too: `otlpEndpoint`, `authorizationHeaderName` +
// `authorizationHeaderValue`.
//
// POST application/json:
//   {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name",
//     "value":{"stringValue":"runner"}}]},"scopeLogs":[{"scope":{"name":"runner"},
//     "logRecords":[{"timeUnixNano":"1763726054123456000","observedTimeUnixNano":"...",
//       "severityNumber":9,"severityText":"info","body":{"stringValue":"..."},
//       "attributes":[{"key":"event.id","value":{"stringValue":"..."}}, job.id, namespace,
//         component.id, source, sequence (intValue), then the event's fields]}]}]}]}
// Fields become attributes under their own names (a name runner uses itself gets the prefix
// "fields."): strings stringValue, booleans boolValue, integers intValue, other numbers
// doubleValue, objects and arrays their JSON text as stringValue; nulls are left out.
// Success: HTTP 2xx and no rejected records in a partialSuccess answer (rejected records make an
// ExportError quoting the receiver's errorMessage).
#pragma once

#include "shipper/exporter_common.hpp"

#include <memory>

namespace runner::shipper {

std::unique_ptr<LogExporter> make_opentelemetry_exporter(ExporterProperties& properties);

}  // namespace runner::shipper
