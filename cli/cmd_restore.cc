#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/time_format.h"
#include "store/ops/archive_restorer.h"
#include "store/ops/restorer.h"

namespace qm::cli {
namespace {

bool IsArchivePath(const std::string& s) {
  for (const char* ext : {".tar.gz", ".tar.zst", ".tar.xz"}) {
    const std::string e = ext;
    if (s.size() > e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

int RestoreFromArchive(CommandContext& ctx, const std::string& archive, const std::string& target) {
  spdlog::info("restoring archive {} into {} (every file checked before any is put in place)", archive, target);
  ArchiveRestoreOptions opt;
  opt.archive = archive;
  opt.target = target;
  auto r = RestoreArchive(ctx.env, opt);
  if (!r.ok()) return ReportError(r.status().WithContext("restore failed"));
  const ArchiveReport& rep = r->report;
  if (!rep.ok()) return ReportProblems(rep.problems, "restore refused: archive " + archive, "nothing was restored");
  std::printf(
      "restored archive %s (snapshot %s of %s taken %s): %llu files (%llu databases pass "
      "integrity_check), %s, checksum OK, %.2f s\n",
      archive.c_str(), rep.info.snapshot_id.substr(0, 12).c_str(), rep.info.hostname.c_str(),
      FormatTimeIso(rep.info.time_unix).c_str(), static_cast<unsigned long long>(rep.files),
      static_cast<unsigned long long>(rep.databases), HumanBytes(rep.bytes).c_str(), r->duration_s);
  return kExitOk;
}

}  // namespace

void RegisterRestore(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string snapshot;
    std::string target;
    std::string at;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "restore",
      "Restore a snapshot, or an exported NAME.tar.gz archive (no store needed), into a new or empty directory");
  cmd->add_option("snapshot", args->snapshot,
                  "Snapshot id, unique id prefix, `latest`, or @TIME; or the path of an export archive "
                  "(NAME.tar.gz, .tar.zst, .tar.xz, with NAME.sha256 beside it)");
  cmd->add_option("--at", args->at,
                  "Restore the last snapshot taken at or before TIME (2025-01-29 14:05, 2025-01-29T14:05:00, "
                  "20250129_140500, or an age such as 2h or 3d)");
  cmd->add_option("-t,--target", args->target, "Directory to restore into (must be new or empty)")->required();
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] {
      if (args->snapshot.empty() == args->at.empty())
        return ReportError(Status::InvalidArgument("restore: name a snapshot (or an archive), or give --at TIME"));
      if (IsArchivePath(args->snapshot)) return RestoreFromArchive(ctx, args->snapshot, args->target);
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto snap = (*repo)->FindSnapshot(args->at.empty() ? args->snapshot : "@" + args->at);
      if (!snap.ok()) return ReportError(snap.status());
      if (!args->at.empty()) {
        // Say which snapshot --at picked and how far it is from the time asked for.
        auto when = ParseTimeOrAgo(args->at, ctx.env->NowUnixNanos() / 1000000000);
        if (when.ok())
          std::printf("--at %s picked snapshot %s taken %s, %s before that time\n", args->at.c_str(),
                      snap->id.ShortHex().c_str(), FormatTimeIso(snap->record.time_unix).c_str(),
                      FormatDuration(*when - snap->record.time_unix).c_str());
      }
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
