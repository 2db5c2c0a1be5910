// ContainerUser: who the job's container runs as, and who on the host owns what it leaves.
//
// Keboola's images run as any user: the component's `user` when given, else the image's own
// `USER` (a name or a uid, with or without a group). Runner must let that user read /data and
// write /data/out and /tmp without opening the private working folder to other host users, and
// must hand what the container wrote in a user's --data-dir back to the person who ran runner.
// This unit only decides; JobWorkspace and DataDirAccess (data_dir_access.hpp) act on it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace runner {

enum class UserKind {
  root,     // uid 0 (no `user`, an image without USER, "root", "0", "0:0")
  numeric,  // "1000" or "1000:1000", or a name the image's /etc/passwd mapped (image_accounts.hpp):
            // the host can give it ownership
  named,    // "app" or "app:staff" not mapped (yet): a name only the image's /etc/passwd knows
  unknown,  // the image was not there to be inspected (it is pulled when the container is made)
  several,  // the stages of a job (processors, the component) run as different users
};

struct ContainerUser {
  UserKind kind = UserKind::root;
  std::string text;  // as given ("" for root by default), for messages
  uid_t uid = 0;     // numeric only (also for a mapped name)
  gid_t gid = 0;     // numeric only; the uid when no group was given (docker's default is 0,
                     // but the folders only need the uid: the gid is used for ownership only)
  bool root() const { return kind == UserKind::root; }
  // For messages: "uid 1000", "user \"app\" (uid 1234, gid 2345)", "user \"app\"", "root".
  std::string describe() const;
};

// `component_user` is the component's `user` (may be empty); `image_user` the image's USER
// (nullopt when the image could not be inspected).
ContainerUser resolve_container_user(const std::string& component_user,
                                     const std::optional<std::string>& image_user);

// The one user a job's folders are made for when its stages run as `users`: root stages need
// nothing (root reads and writes anything), so the others' user if they agree; when they do not,
// a ContainerUser of kind `several` (its text lists them), for which the folders are opened to
// all below the private 0700 folder, as for a name the host cannot map.
ContainerUser shared_user(const std::vector<ContainerUser>& users);

// Who gets back the files the container wrote into a --data-dir: the user who ran runner. Under
// sudo that is SUDO_UID/SUDO_GID; otherwise the owner of `data_dir` (a root runner working in
// someone's folder), which is also the effective user when runner is not root.
struct HostOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};
HostOwner host_owner_of(const std::string& data_dir);

}  // namespace runner
