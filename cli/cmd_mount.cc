#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "store/mount/fuse_mount.h"
#include "store/ops/snapshot_fs.h"

namespace qm::cli {

void RegisterMount(CLI::App& app, CommandContext& ctx) {
  auto mountpoint = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "mount", "Browse the store read-only at MOUNTPOINT (FUSE): snapshots/, latest, by-tag/; Ctrl-C unmounts");
  cmd->add_option("mountpoint", *mountpoint, "An existing empty directory")->required();
  cmd->callback([&ctx, mountpoint] {
    ctx.run = [&ctx, mountpoint]() -> int {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto fs = SnapshotFs::Create(repo->get());
      if (!fs.ok()) return ReportError(fs.status());
      Status s = ServeFuse(fs->get(), *mountpoint, [&] {
        std::printf(
            "mounted %zu snapshot(s) read-only at %s (snapshots/, latest, by-tag/); Ctrl-C, SIGTERM or "
            "`fusermount3 -u %s` unmounts\n",
            (*fs)->SnapshotNames().size(), mountpoint->c_str(), mountpoint->c_str());
        std::fflush(stdout);
      });
      if (!s.ok()) return ReportError(s);
      std::printf("unmounted %s\n", mountpoint->c_str());
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
