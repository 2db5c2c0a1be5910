// Folder <-> tar for file handling by copy: the round trip keeps what a bind mount would show, and
// the extraction of a container's tar (untrusted) writes nothing outside its folder. The hostile
// tars are written here with libarchive, entry by entry, as a component could shape them.
#include "docker/folder_archive.hpp"
#include "fixtures.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

namespace fs = std::filesystem;
using runner::docker::extract_folder_tar;
using runner::docker::write_folder_tar;
using runner_test::TempDir;

namespace {

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// One tar entry as a component's container could put it into its answer. A constructor, not an
// aggregate: the entries below give only the fields they need.
struct TarEntry {
  TarEntry(std::string name_, unsigned type_ = AE_IFREG, unsigned perm_ = 0644,
           std::string content_ = {}, std::string link_ = {}, std::string hardlink_ = {})
      : name(std::move(name_)),
        type(type_),
        perm(perm_),
        content(std::move(content_)),
        link(std::move(link_)),
        hardlink(std::move(hardlink_)) {}
  std::string name;
  unsigned type;
  unsigned perm;
  std::string content;  // regular files
  std::string link;     // symlink target
  std::string hardlink;
};

void write_tar(const fs::path& path, const std::vector<TarEntry>& entries) {
  const std::unique_ptr<archive, decltype(&archive_write_free)> out(archive_write_new(),
                                                                    &archive_write_free);
  REQUIRE(archive_write_set_format_pax_restricted(out.get()) == ARCHIVE_OK);
  REQUIRE(archive_write_open_filename(out.get(), path.c_str()) == ARCHIVE_OK);
  for (const auto& e : entries) {
    const std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                              &archive_entry_free);
    archive_entry_set_pathname(entry.get(), e.name.c_str());
    archive_entry_set_filetype(entry.get(), e.type);
    archive_entry_set_perm(entry.get(), e.perm);
    if (!e.link.empty()) archive_entry_set_symlink(entry.get(), e.link.c_str());
    if (!e.hardlink.empty()) archive_entry_set_hardlink(entry.get(), e.hardlink.c_str());
    if (e.type == AE_IFCHR) archive_entry_set_rdev(entry.get(), makedev(1, 3));
    archive_entry_set_size(entry.get(), e.type == AE_IFREG && e.hardlink.empty()
                                            ? static_cast<la_int64_t>(e.content.size())
                                            : 0);
    REQUIRE(archive_write_header(out.get(), entry.get()) == ARCHIVE_OK);
    if (!e.content.empty()) archive_write_data(out.get(), e.content.data(), e.content.size());
  }
  REQUIRE(archive_write_close(out.get()) == ARCHIVE_OK);
}

}  // namespace

TEST_CASE("a folder goes through a tar and back with its files, modes and links",
          "[docker][archive]") {
  TempDir dir;
  const fs::path src = dir.path / "src";
  fs::create_directories(src / "in" / "tables");
  fs::create_directories(src / "out" / "files");
  write_text(src / "config.json", R"({"parameters":{}})");
  fs::permissions(src / "config.json", fs::perms::owner_read | fs::perms::owner_write);
  write_text(src / "in" / "tables" / "t.csv", "a,b\n1,2\n");
  fs::create_symlink("tables/t.csv", src / "in" / "latest");
  std::string big(300 * 1024, 'x');
  write_text(src / "in" / "big.bin", big);

  const fs::path tar = dir.path / "data.tar";
  const auto packed = write_folder_tar(src, "data", tar);
  CHECK(packed.files == 3);
  CHECK(packed.links == 1);
  CHECK(packed.folders == 5);  // src itself, in, in/tables, out, out/files
  CHECK(packed.bytes == 17 + 8 + big.size());

  const fs::path dst = dir.path / "dst";
  const auto unpacked = extract_folder_tar(tar, "data", dst);
  CHECK(unpacked.files == packed.files);
  CHECK(unpacked.links == packed.links);
  CHECK(unpacked.folders == packed.folders);
  CHECK(read_text(dst / "config.json") == R"({"parameters":{}})");
  CHECK(mode_of(dst / "config.json") == 0600);
  CHECK(read_text(dst / "in" / "tables" / "t.csv") == "a,b\n1,2\n");
  CHECK(read_text(dst / "in" / "big.bin") == big);
  REQUIRE(fs::is_symlink(dst / "in" / "latest"));
  CHECK(fs::read_symlink(dst / "in" / "latest") == "tables/t.csv");
  CHECK(fs::is_directory(dst / "out" / "files"));
}

TEST_CASE("a container's tar cannot write outside its folder", "[docker][archive][hostile]") {
  TempDir dir;
  const fs::path tar = dir.path / "out.tar";
  const fs::path dst = dir.path / "work" / "out";
  const fs::path victim = dir.path / "victim";
  fs::create_directories(victim);

  SECTION("an entry beside the top folder") {
    write_tar(tar, {{"out"}, {"elsewhere/x", AE_IFREG, 0644, "x"}});
    CHECK_THROWS_WITH(extract_folder_tar(tar, "out", dst), Catch::Contains("not inside out/"));
  }
  SECTION("dot-dot components") {
    write_tar(tar, {{"out/../../victim/x", AE_IFREG, 0644, "x"}});
    CHECK_THROWS_WITH(extract_folder_tar(tar, "out", dst), Catch::Contains("not inside out/"));
  }
  SECTION("an absolute path") {
    write_tar(tar, {{(victim / "x").string(), AE_IFREG, 0644, "x"}});
    CHECK_THROWS_WITH(extract_folder_tar(tar, "out", dst), Catch::Contains("not inside out/"));
  }
  SECTION("a name that only starts like the top folder") {
    write_tar(tar, {{"outside/x", AE_IFREG, 0644, "x"}});
    CHECK_THROWS(extract_folder_tar(tar, "out", dst));
    CHECK_FALSE(fs::exists(dir.path / "work" / "outside"));
  }
  // A symlink on the way is removed and replaced by a real folder (libarchive's SECURE_SYMLINKS
  // with UNLINK), never followed.
  SECTION("a file written through a symlink the tar made") {
    write_tar(tar, {{"out", AE_IFDIR, 0755},
                    {"out/link", AE_IFLNK, 0777, "", victim.string()},
                    {"out/link/pwned", AE_IFREG, 0644, "x"}});
    CHECK_NOTHROW(extract_folder_tar(tar, "out", dst));
    CHECK_FALSE(fs::is_symlink(dst / "link"));
    CHECK(read_text(dst / "link" / "pwned") == "x");
  }
  SECTION("a file written through a symlink already in the destination") {
    fs::create_directories(dst);
    fs::create_symlink(victim, dst / "files");
    write_tar(tar, {{"out/files/pwned", AE_IFREG, 0644, "x"}});
    CHECK_NOTHROW(extract_folder_tar(tar, "out", dst));
    CHECK_FALSE(fs::is_symlink(dst / "files"));
    CHECK(read_text(dst / "files" / "pwned") == "x");
  }
  SECTION("a hard link to a file outside") {
    write_tar(tar,
              {{"out", AE_IFDIR, 0755}, {"out/h", AE_IFREG, 0644, "", "", "../victim/secret"}});
    CHECK_THROWS_WITH(extract_folder_tar(tar, "out", dst), Catch::Contains("outside out/"));
  }
  CHECK(fs::is_empty(victim));
}

TEST_CASE("a container's tar loses setuid bits and devices, keeps hard links inside",
          "[docker][archive][hostile]") {
  TempDir dir;
  const fs::path tar = dir.path / "out.tar";
  const fs::path dst = dir.path / "out";
  write_tar(tar, {{"out", AE_IFDIR, 0755},
                  {"out/suid", AE_IFREG, 04755, "#!/bin/sh\n"},
                  {"out/sgid", AE_IFREG, 02755, "#!/bin/sh\n"},
                  {"out/null", AE_IFCHR, 0666},
                  {"out/fifo", AE_IFIFO, 0644},
                  {"out/a", AE_IFREG, 0640, "shared"},
                  {"out/b", AE_IFREG, 0640, "", "", "out/a"}});
  const auto counts = extract_folder_tar(tar, "out", dst);
  CHECK(mode_of(dst / "suid") == 0755);
  CHECK(mode_of(dst / "sgid") == 0755);
  CHECK_FALSE(fs::exists(dst / "null"));
  CHECK_FALSE(fs::exists(dst / "fifo"));
  CHECK(counts.skipped == 2);
  CHECK(read_text(dst / "b") == "shared");
  CHECK(fs::hard_link_count(dst / "a") == 2);
}

TEST_CASE("a damaged tar is an error, not a crash", "[docker][archive][hostile]") {
  TempDir dir;
  const fs::path tar = dir.path / "bad.tar";
  write_text(tar, std::string(1024, '\x7f') + "not a tar");
  CHECK_THROWS_WITH(extract_folder_tar(tar, "out", dir.path / "out"),
                    Catch::Contains("Unrecognized archive format"));
  write_tar(tar, {{"out/f", AE_IFREG, 0644, std::string(4096, 'z')}});
  fs::resize_file(tar, 1024);  // cut inside the file's content
  CHECK_THROWS(extract_folder_tar(tar, "out", dir.path / "out2"));
}
