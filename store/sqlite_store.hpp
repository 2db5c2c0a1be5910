// The SQLite backend: one file shared by every process on the machine (CLI runs, workers, the
// shipper). WAL journal, synchronous=NORMAL, a 10 s busy timeout; every transaction that writes
// starts with BEGIN IMMEDIATE, so writers queue on the lock instead of failing on upgrade.
// Statements are prepared once per connection and cached.
#pragma once

#include "store/store.hpp"

#include <chrono>
#include <memory>
#include <string_view>

namespace runner::store {

// How long a connection waits for another process's write lock before failing.
inline constexpr std::chrono::milliseconds kSqliteBusyTimeout{10000};
// How often an SQLite worker looks for jobs (wait_for_jobs returns after at most this).
inline constexpr std::chrono::milliseconds kSqlitePollInterval{200};

// Opens (creating the file, its missing folders with mode 0700, and the schema) the store at
// `path`. Throws StoreError("cannot open sqlite:PATH: ...").
std::unique_ptr<Store> open_sqlite_store(std::string_view path);

}  // namespace runner::store
