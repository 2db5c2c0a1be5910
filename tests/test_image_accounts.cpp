// A named container user's numbers from the image's /etc/passwd and /etc/group
// (runner/image_accounts.hpp): Docker's rules, hostile and malformed lines ignored, the reason
// when a name cannot be mapped; and the single-file tar the engine sends
// (docker/image_files.hpp), checked against tars libarchive writes here.
#include "docker/engine_errors.hpp"
#include "docker/image_files.hpp"
#include "runner/image_accounts.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

using runner::ContainerUser;
using runner::UserKind;

namespace {

const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment:x:1:1:::\n"
    "broken:x:77\n"
    "toolong:x:5:5:a:b:c:d\n"
    "badid:x:12a:5::/:/bin/sh\n"
    "app:x:1234:2345:App:/home/app:/bin/sh\r\n"
    "app:x:999:999:second entry, never used:/:/bin/sh\n"
    "huge:x:4294967295:1::/:/bin/sh\n"
    "nogid:x:55:::/:/bin/sh\n"
    "last:x:4000:4001::/:/bin/sh";
const std::string kGroup =
    "root:x:0:\n"
    "staff:x:3456:app,other\n"
    "short:x:9\n"
    "app:x:2345:\n";

ContainerUser named(const std::string& text) {
  return runner::resolve_container_user(text, std::nullopt);
}

struct Tar {
  std::string path;
  Tar() {
    path = (std::getenv("TMPDIR") != nullptr ? std::string(std::getenv("TMPDIR")) : "/tmp") +
           "/runner-test-tar-XXXXXX";
    const int fd = ::mkstemp(path.data());
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  ~Tar() { ::unlink(path.c_str()); }
  // Writes entries {name, type, content}.
  void write(const std::vector<std::tuple<std::string, unsigned, std::string>>& entries) const {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
    for (const auto& [name, type, content] : entries) {
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, name.c_str());
      archive_entry_set_filetype(e, type);
      archive_entry_set_perm(e, 0644);
      if (type == AE_IFLNK) archive_entry_set_symlink(e, content.c_str());
      if (type == AE_IFREG) archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
      REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
      if (type == AE_IFREG) archive_write_data(a, content.data(), content.size());
      archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
  }
};

}  // namespace

TEST_CASE("image accounts: passwd and group entries, malformed lines ignored",
          "[runner][accounts]") {
  const auto app = runner::find_passwd_entry(kPasswd, "app");
  REQUIRE(app);
  CHECK(app->uid == 1234);  // the first well-formed entry, the \r of a CRLF file dropped
  CHECK(app->gid == 2345);
  CHECK(runner::find_passwd_entry(kPasswd, "last")->uid == 4000);  // no final newline
  for (const char* name :
       {"broken", "toolong", "badid", "huge", "nogid", "# a comment", "ap", "", "nobody"}) {
    INFO(name);
    CHECK_FALSE(runner::find_passwd_entry(kPasswd, name));
  }
  CHECK(runner::find_group_entry(kGroup, "staff") == 3456u);
  CHECK_FALSE(runner::find_group_entry(kGroup, "short"));
  CHECK_FALSE(runner::find_group_entry(kGroup, "other"));  // a member, not a group
  // A file of one long line and of many colons: linear, nothing found, no crash.
  CHECK_FALSE(runner::find_passwd_entry(std::string(1 << 20, ':'), "app"));
  CHECK_FALSE(runner::find_passwd_entry(std::string(1 << 20, 'a'), "app"));
}

TEST_CASE("image accounts: a named user is mapped by Docker's rules", "[runner][accounts]") {
  std::string why;
  auto check = [&](const std::string& text, uid_t uid, gid_t gid) {
    INFO(text);
    const auto mapped = runner::map_named_user(named(text), kPasswd, kGroup, why);
    REQUIRE(mapped);
    CHECK(mapped->kind == UserKind::numeric);
    CHECK(mapped->uid == uid);
    CHECK(mapped->gid == gid);
    CHECK(mapped->text == text);
  };
  check("app", 1234, 2345);         // the entry's primary group
  check("app:staff", 1234, 3456);   // a group name from /etc/group
  check("app:77", 1234, 77);        // a numeric group
  check("4321:staff", 4321, 3456);  // a uid with a group name
  CHECK(runner::map_named_user(named("app"), kPasswd, kGroup, why)->describe() ==
        "user \"app\" (uid 1234, gid 2345)");
  // A name that maps to uid 0 is root.
  CHECK(runner::map_named_user(named("toor"), std::string("toor:x:0:0::/:/bin/sh\n"), kGroup, why)
            ->root());

  CHECK_FALSE(runner::map_named_user(named("ghost"), kPasswd, kGroup, why));
  CHECK(why == "the image's /etc/passwd has no entry for \"ghost\"");
  CHECK_FALSE(runner::map_named_user(named("app:ghosts"), kPasswd, kGroup, why));
  CHECK(why == "the image's /etc/group has no entry for \"ghosts\"");
  CHECK_FALSE(runner::map_named_user(named("app"), std::nullopt, kGroup, why));
  CHECK(why == "the image has no /etc/passwd");
  CHECK_FALSE(runner::map_named_user(named("4321:staff"), kPasswd, std::nullopt, why));
  CHECK(why == "the image has no /etc/group");
}

TEST_CASE("image files: the one regular file of the engine's tar, bounded", "[runner][accounts]") {
  Tar tar;
  tar.write({{"passwd", AE_IFREG, kPasswd}});
  CHECK(runner::docker::single_file_of_tar(tar.path, 1 << 20) == kPasswd);
  CHECK_THROWS_WITH(runner::docker::single_file_of_tar(tar.path, 10),
                    Catch::Contains("larger than 10 bytes"));
  tar.write({{"passwd", AE_IFLNK, "/elsewhere/passwd"}});
  CHECK_FALSE(runner::docker::single_file_of_tar(tar.path, 1 << 20));
  tar.write({{"passwd", AE_IFDIR, ""}});
  CHECK_FALSE(runner::docker::single_file_of_tar(tar.path, 1 << 20));
  tar.write({{"passwd", AE_IFREG, "a"}, {"extra", AE_IFREG, "b"}});
  CHECK_THROWS_WITH(runner::docker::single_file_of_tar(tar.path, 1 << 20),
                    Catch::Contains("more than one entry"));
  {
    std::FILE* f = std::fopen(tar.path.c_str(), "wb");
    std::fputs("not a tar at all, not even close", f);
    std::fclose(f);
  }
  CHECK_THROWS_AS(runner::docker::single_file_of_tar(tar.path, 1 << 20),
                  runner::docker::EngineError);
}
