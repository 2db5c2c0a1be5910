// The `loki` exporter: Loki's push API with a JSON body. Properties: `url` (required, Loki's base
// URL; /loki/api/v1/push is appended unless the URL already ends with it), `tenantId` (header
// X-Scope-OrgID), `username` + `password` (basic auth, through resolve_credential; Grafana
// Cloud: user id and token), `labels` (static stream labels, default {"job":"runner"}),
// `timeout`.
//
// POST application/json:
//   {"streams":[{"stream":{"job":"runner","namespace":"...","level":"info","source":"stdout"},
//                "values":[["1763726054123456000","<line>"], ...]}, ...]}
// Labels stay low-cardinality: the static labels plus namespace, level and source; job ids and
// event ids never become labels. The line is compact JSON, so LogQL's `| json` reads it:
//   {"message":"...","id":"<event id>","job_id":"...","component_id":"...","sequence":7,
//    "fields":{...}}
// Timestamps are nanoseconds since the epoch as decimal strings; within a stream entries are in
// time order. A retried batch sends identical (timestamp, line) pairs, which Loki deduplicates.
// Requests hold at most ~3 MB (a larger batch goes in several); each must be answered 2xx
// (Loki answers 204).
#pragma once

#include "shipper/exporter_common.hpp"

#include <memory>

namespace runner::shipper {

std::unique_ptr<LogExporter> make_loki_exporter(ExporterProperties& properties);

}  // namespace runner::shipper
