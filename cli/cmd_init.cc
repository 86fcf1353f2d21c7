#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"

namespace qm::cli {

void RegisterInit(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("init", "Create a new, empty repository");
  auto level = std::make_shared<int>(3);
  cmd->add_option("--compression-level", *level, "zstd level for this repository (1-19, default 3)")
      ->check(CLI::Range(1, 19));
  cmd->callback([&ctx, level] {
    ctx.run = [&ctx, level] {
      RepoConfig cfg;
      cfg.zstd_level = *level;
      Status s = Repository::Init(ctx.env, ctx.global.repo, cfg);
      if (!s.ok()) return ReportError(s.WithContext("init " + ctx.global.repo));
      std::printf("created qm-snap repository at %s\n", ctx.global.repo.c_str());
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
