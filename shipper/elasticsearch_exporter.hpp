// The `elasticsearch` exporter (also `opensearch`): the Bulk API. Properties: `url` (required,
// e.g. http://host:9200; a path prefix is kept), `index` (default "runner-logs"), `username` +
// `password` (basic auth) or `apiKey` (header "Authorization: ApiKey <apiKey>", the encoded key
// Elasticsearch hands out), `chunk` (documents per request), `timeout` (default 30 s).
// Credentials go through resolve_credential. Kestra's form is accepted too: `connection`
// {hosts (the first is used), basicAuth {username, password}, headers ["Name: value"],
// pathPrefix} and `indexName`.
//
// POST <url>/_bulk, Content-Type application/x-ndjson, one pair of lines per event:
//   {"index":{"_index":"runner-logs","_id":"<event id>"}}
//   {"@timestamp":"2026-11-21T11:54:14.123456Z","message":"...","level":"info",
//    "source":"stdout","event_id":"<event id>","job_id":"...","sequence":7,
//    "namespace":"...","component_id":"...","fields":{...}}
// A batch is cut into requests of at most 10 MB. Success needs HTTP 2xx and `"errors":false` in
// the answer; with `"errors":true` the ExportError says how many documents failed and quotes the
// first item's error (type and reason). `_id` = event id makes a retried batch overwrite, not
// duplicate.
#pragma once

#include "shipper/exporter_common.hpp"

#include <memory>

namespace runner::shipper {

std::unique_ptr<LogExporter> make_elasticsearch_exporter(ExporterProperties& properties);

}  // namespace runner::shipper
