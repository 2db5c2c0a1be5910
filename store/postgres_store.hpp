// The PostgreSQL backend (libpq): many runners on many machines share one database. Every
// query is parameterized (PQexecParams, strings sent as binary with their length); claims use
// FOR UPDATE SKIP LOCKED; enqueue NOTIFYs runner_jobs and wait_for_jobs LISTENs for it; the
// schema migration holds a transaction-level advisory lock so that runners starting together
// migrate once. Lease times use the database server's clock, so runners on machines whose
// clocks disagree still agree on when a lease expires.
#pragma once

#include "store/store.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace runner::store {

// The channel enqueue notifies and wait_for_jobs listens on.
inline constexpr std::string_view kJobsChannel = "runner_jobs";

// Connects to a libpq URI (postgresql://... or postgres://...) and migrates the schema.
// Throws StoreError("PostgreSQL: connection to URL failed: ...") with the password removed.
std::unique_ptr<Store> open_postgres_store(std::string_view url);

// `url` with the password of its user info ("user:secret@") and any password=... parameter
// replaced by "***".
std::string redact_url_password(std::string_view url);

}  // namespace runner::store
