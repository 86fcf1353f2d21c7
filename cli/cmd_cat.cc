#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "store/ops/snapshot_reader.h"

namespace qm::cli {

void RegisterCat(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string snapshot, path;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("cat", "Write one file of a snapshot to stdout (reads only that file's chunks)");
  cmd->add_option("snapshot", args->snapshot, "Snapshot id, unique prefix, `latest`, or @TIME")->required();
  cmd->add_option("path", args->path, "Path in the snapshot, e.g. config.yaml")->required();
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args]() -> int {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto snap = (*repo)->FindSnapshot(args->snapshot);
      if (!snap.ok()) return ReportError(snap.status());
      auto node = LookupPath(repo->get(), *snap, args->path);
      if (!node.ok()) return ReportError(node.status());
      if (node->type != NodeType::kFile)
        return ReportError(Status::InvalidArgument("cat " + args->path, node->type == NodeType::kDir
                                                                            ? "is a directory; use `qm-snap ls`"
                                                                            : "is a symlink to " + node->link_target));
      Status s = ReadFileContent(repo->get(), *node, [](ByteView piece) {
        if (std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size())
          return Status::IOError("stdout", "write failed");
        return Status::OK();
      });
      if (s.ok() && std::fflush(stdout) != 0) s = Status::IOError("stdout", "write failed");
      if (!s.ok()) return ReportError(s.WithContext("cat " + args->path));
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
