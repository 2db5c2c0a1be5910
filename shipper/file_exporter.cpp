// The `file` exporter: see the header. Lines are built by hand (the JSON string escaper of the
// JSON Lines sink, a cached date prefix) into one reused buffer: a batch costs one write() and
// one fdatasync() per file it touches, so shipping to files runs at disk speed.
#include "shipper/file_exporter.hpp"

#include "logging/json_text.hpp"
#include "secrets/config_cipher.hpp"
#include "shipper/exporter_io.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace runner::shipper {

namespace {

namespace fs = std::filesystem;

struct FileSettings {
  fs::path folder;
  std::string prefix;
  std::uint64_t max_lines = 100000;
};

// "20261121T115414" for now, in UTC.
std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%S", &tm);
  return text;
}

bool fields_look_like_object(const std::string& fields) {
  for (char c : fields) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

class FileExporter final : public ExporterBase {
 public:
  FileExporter(std::string id, std::string type, FileSettings settings)
      : ExporterBase(std::move(id), std::move(type)), settings_(std::move(settings)) {}

  void send(const std::vector<ShippedEvent>& batch) override {
    std::size_t next = 0;
    while (next < batch.size()) {
      if (!fd_) open_next();
      const std::uint64_t room = settings_.max_lines - lines_;
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(room, batch.size() - next));
      buffer_.clear();
      for (std::size_t i = next; i < next + take; ++i) append_line(batch[i]);
      write_buffer();
      lines_ += take;
      next += take;
      if (lines_ >= settings_.max_lines) fd_.reset();  // full: the next line opens a new file
    }
  }

  void close() override { fd_.reset(); }

 private:
  void open_next() {
    std::error_code ec;
    fs::create_directories(settings_.folder, ec);
    if (ec) {
      throw ExportError(fmt::format("{}cannot create folder {}: {}", error_prefix(),
                                    settings_.folder.string(), ec.message()));
    }
    const std::string stamp = utc_stamp();
    for (int attempt = 0; attempt < 10000; ++attempt) {
      ++file_number_;
      const fs::path path =
          settings_.folder / fmt::format("{}-{}-{}.jsonl", settings_.prefix, stamp, file_number_);
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644));
      if (!fd) {
        if (errno == EEXIST) continue;
        throw ExportError(fmt::format("{}cannot create {}: {}", error_prefix(), path.string(),
                                      std::strerror(errno)));
      }
      // The new name must survive a crash too, not only the data.
      UniqueFd dir(::open(settings_.folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (dir) ::fsync(dir.get());
      fd_ = std::move(fd);
      path_ = path.string();
      lines_ = 0;
      return;
    }
    throw ExportError(fmt::format("{}cannot find a free file name in {}", error_prefix(),
                                  settings_.folder.string()));
  }

  void append_line(const ShippedEvent& shipped) {
    const store::StoredEvent& e = shipped.event;
    buffer_ += R"({"id":)";
    logging::append_json_string(buffer_, e.id());
    buffer_ += R"(,"time":")";
    time_.append(buffer_, e.time);
    buffer_ += R"(","level":")";
    buffer_ += logging::level_name(e.level);
    buffer_ += R"(","source":)";
    logging::append_json_string(buffer_, e.source);
    buffer_ += R"(,"message":)";
    logging::append_json_string(buffer_, e.message);
    if (!e.fields.empty() && fields_look_like_object(e.fields)) {
      // Stored fields are a JSON object's text already (written by the store's own encoder).
      buffer_ += R"(,"fields":)";
      for (char c : e.fields) {
        if (c != '\n' && c != '\r') buffer_ += c;  // a line is a line, even for odd text
      }
    }
    append_job_members(buffer_, shipped);
    buffer_ += "}\n";
  }

  // Writes buffer_ and makes it durable; on failure cuts the file back to where it was.
  void write_buffer() {
    const off_t start = ::lseek(fd_.get(), 0, SEEK_END);
    const char* data = buffer_.data();
    std::size_t left = buffer_.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_.get(), data, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int error = n < 0 ? errno : EIO;
        rollback(start);
        throw ExportError(
            fmt::format("{}writing {} failed: {}", error_prefix(), path_, std::strerror(error)));
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    if (::fdatasync(fd_.get()) != 0) {
      const int error = errno;
      // After a failed fdatasync the page cache cannot be trusted: drop the file, the retry
      // writes the batch into a new one.
      fd_.reset();
      throw ExportError(
          fmt::format("{}fdatasync of {} failed: {}", error_prefix(), path_, std::strerror(error)));
    }
  }

  void rollback(off_t start) {
    if (start < 0 || ::ftruncate(fd_.get(), start) != 0) {
      fd_.reset();  // cannot cut the partial line off: continue in a new file
    }
  }

  FileSettings settings_;
  UniqueFd fd_;
  std::string path_;
  std::uint64_t lines_ = 0;
  std::uint64_t file_number_ = 0;
  std::string buffer_;
  TimeFormatter time_;
};

}  // namespace

std::unique_ptr<LogExporter> make_file_exporter(ExporterProperties& properties) {
  FileSettings settings;
  // Kestra's FileLogExporter has no `path` (it writes to Kestra's storage): without one, files go
  // to $RUNNER_HOME/logs (~/.runner/logs), so a Kestra task can be pasted as it is.
  if (const auto path = properties.string("path")) {
    settings.folder = *path;
  } else if (const auto home = secrets::runner_home()) {
    settings.folder = *home / "logs";
  } else {
    settings.folder = properties.required_string("path");  // neither RUNNER_HOME nor HOME
  }
  const std::string prefix_name = properties.pick({"filePrefix", "logFilePrefix"});  // Kestra's
  settings.prefix = properties.string_or(prefix_name, "logs");
  if (settings.prefix.find('/') != std::string::npos || settings.prefix == "." ||
      settings.prefix == "..") {
    properties.fail(prefix_name, fmt::format("expected a file name prefix without '/', got \"{}\"",
                                             settings.prefix));
  }
  // Kestra's FileLogExporter writes ION or JSON; runner writes JSON Lines only.
  if (const auto format = properties.string("format")) {
    std::string upper = *format;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper != "JSON") {
      properties.fail("format", fmt::format("expected JSON (runner writes JSON Lines; ION is not "
                                            "supported), got \"{}\"",
                                            *format));
    }
  }
  settings.max_lines = static_cast<std::uint64_t>(
      properties.integer("maxLinesPerFile", 1, 1'000'000'000).value_or(100000));
  return std::make_unique<FileExporter>(properties.id(), properties.type(), std::move(settings));
}

}  // namespace runner::shipper
