#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "store/ops/path_finder.h"

namespace qm::cli {

void RegisterFind(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string pattern;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("find", "Which snapshots hold a path matching PATTERN (glob on path or name)");
  cmd->add_option("pattern", args->pattern, "Glob, e.g. config.yaml, '*.db', 'logs/*2025-01-29*'")->required();
  cmd->add_flag("--json", args->json, "Print a JSON array");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args]() -> int {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto found = FindPaths(repo->get(), args->pattern);
      if (!found.ok()) return ReportError(found.status());
      if (args->json) {
        JsonWriter j;
        j.BeginArray();
        for (const FoundPath& f : *found) {
          j.BeginObject();
          j.Key("snapshot").String(f.snapshot.id.Hex());
          j.Key("snapshot_time").String(FormatTimeIsoUtc(f.snapshot.record.time_unix));
          j.Key("path").String(f.path);
          j.Key("type").String(f.type == NodeType::kDir ? "dir" : f.type == NodeType::kSymlink ? "symlink" : "file");
          j.Key("size").Uint(f.size);
          j.Key("mtime").String(FormatTimeIsoUtc(f.mtime_ns / 1000000000));
          j.EndObject();
        }
        j.EndArray();
        std::printf("%s\n", j.str().c_str());
        return kExitOk;
      }
      for (const FoundPath& f : *found)
        std::printf("%s  %s  %10s  %s  %s%s\n", f.snapshot.id.ShortHex().c_str(),
                    FormatTimeIso(f.snapshot.record.time_unix).c_str(), HumanBytes(f.size).c_str(),
                    FormatTimeIso(f.mtime_ns / 1000000000).c_str(), f.path.c_str(),
                    f.type == NodeType::kDir ? "/" : "");
      std::printf("%zu match(es)\n", found->size());
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
