#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "store/ops/checker.h"

namespace qm::cli {

void RegisterCheck(CLI::App& app, CommandContext& ctx) {
  auto read_data = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("check", "Verify that every snapshot in the repository can be restored");
  cmd->add_flag("--read-data", *read_data, "Also read, decompress and re-hash every stored chunk");
  cmd->callback([&ctx, read_data] {
    ctx.run = [&ctx, read_data] {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      CheckOptions opt;
      opt.read_data = *read_data;
      auto report = Check(repo->get(), opt, nullptr);
      if (!report.ok()) return ReportError(report.status().WithContext("check could not run"));
      for (const auto& n : report->notes) spdlog::info("{}", n);
      std::printf("checked %llu snapshot(s), %llu pack(s), %llu tree(s), %llu chunk(s)%s\n",
                  static_cast<unsigned long long>(report->snapshots), static_cast<unsigned long long>(report->packs),
                  static_cast<unsigned long long>(report->trees),
                  static_cast<unsigned long long>(report->chunks_referenced), opt.read_data ? ", all data read" : "");
      if (report->ok()) {
        std::printf("no errors were found\n");
        return kExitOk;
      }
      for (const auto& e : report->errors) spdlog::error("{}", e);
      spdlog::error("the repository is damaged: {} snapshot(s) affected", report->damaged_snapshots.size());
      return kExitFailure;
    };
  });
}

}  // namespace qm::cli
