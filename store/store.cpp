// Store helpers shared by both backends, the default URL and the URL dispatch (store.hpp).
#include "store/store.hpp"

#include "secrets/config_cipher.hpp"
#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace runner::store {

bool is_final_status(std::string_view status) {
  const auto known = logging::job_status_from_name(status);
  return known && logging::is_final(*known);
}

std::string StoredEvent::id() const {
  return fmt::format("{}-{:012}", job_id, sequence);
}

std::string default_store_url() {
  if (const char* env = std::getenv("RUNNER_STORE"); env != nullptr && *env != '\0') return env;
  // Without RUNNER_HOME and HOME there is nowhere to put the default file: no store.
  const auto home = secrets::runner_home();
  if (!home) return "none";
  return "sqlite:" + (*home / "runner.db").string();
}

std::unique_ptr<Store> open_store(std::string_view url) {
  if (url == "none") throw StoreError("no store: the store URL is \"none\"");
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);  // sqlite:///abs/path, sqlite://rel/path
    if (path.empty()) throw StoreError(fmt::format("store URL \"{}\" names no file", url));
    return open_sqlite_store(path);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return open_postgres_store(url);
  throw StoreError(fmt::format(
      "unknown store URL \"{}\": use sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DB",
      redact_url_password(url)));
}

}  // namespace runner::store
