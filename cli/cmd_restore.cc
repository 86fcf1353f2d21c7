#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/time_format.h"
#include "store/ops/restorer.h"

namespace qm::cli {

void RegisterRestore(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string snapshot;
    std::string target;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("restore", "Restore a snapshot into a new or empty directory");
  cmd->add_option("snapshot", args->snapshot, "Snapshot id, unique id prefix, or `latest`")->required();
  cmd->add_option("-t,--target", args->target, "Directory to restore into (must be new or empty)")->required();
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto snap = (*repo)->FindSnapshot(args->snapshot);
      if (!snap.ok()) return ReportError(snap.status());
      spdlog::info("restoring snapshot {} of {} taken {} into {}", snap->id.ShortHex(), snap->record.source,
                   FormatTimeIso(snap->record.time_unix), args->target);
      RestoreOptions opt;
      opt.target = args->target;
      auto result = Restore(repo->get(), *snap, opt, nullptr);
      if (!result.ok()) return ReportError(result.status().WithContext("restore failed"));
      std::printf("restored snapshot %s: %llu files, %s, %.2f s\n", snap->id.ShortHex().c_str(),
                  static_cast<unsigned long long>(result->files), HumanBytes(result->bytes).c_str(),
                  result->duration_s);
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
