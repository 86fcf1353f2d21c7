#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/time_format.h"
#include "store/ops/archive_restorer.h"
#include "store/ops/in_place_restorer.h"
#include "store/ops/restorer.h"

namespace qm::cli {
namespace {

// One line per restored database: "integrity_check PATH: RESULT".
void PrintIntegrity(const std::vector<std::pair<std::string, std::string>>& results) {
  for (const auto& [path, result] : results) std::printf("integrity_check %s: %s\n", path.c_str(), result.c_str());
}

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

namespace {

// Restoring over data already there: show, guard, confirm, then run.
int RestoreOverExistingData(CommandContext& ctx, Repository* repo, const Snapshot& snap,
                            const InPlaceRestoreOptions& opt, bool dry_run, bool yes) {
  auto plan = PlanInPlaceRestore(repo, snap, opt);
  if (!plan.ok()) return ReportError(plan.status().WithContext("restore failed"));
  uint64_t replace = 0, create = 0;
  for (const PlannedFile& f : plan->plan) (f.exists ? replace : create)++;
  std::printf("snapshot %s taken %s on %s from %s (%llu files, %s)\n", snap.id.ShortHex().c_str(),
              FormatTimeIso(snap.record.time_unix).c_str(), snap.record.hostname.c_str(), snap.record.source.c_str(),
              static_cast<unsigned long long>(snap.record.totals.files),
              HumanBytes(snap.record.totals.bytes_logical).c_str());
  std::printf(
      "%s already holds data: %llu file(s) would be replaced and %llu created; files the snapshot does not "
      "have are left alone\n",
      opt.target.c_str(), static_cast<unsigned long long>(replace), static_cast<unsigned long long>(create));
  for (const auto& [path, pids] : plan->held) {
    std::string list;
    for (int pid : pids) list += (list.empty() ? "" : ", ") + std::to_string(pid);
    std::printf("  %s is open by process %s\n", path.c_str(), list.c_str());
  }
  if (dry_run) {
    for (const PlannedFile& f : plan->plan)
      std::printf("  %s %s  %s -> %s%s\n", f.exists ? "replace" : "create ", f.path.c_str(),
                  f.exists ? HumanBytes(f.size_now).c_str() : "-", HumanBytes(f.size_new).c_str(),
                  f.database ? "  (database: stale -wal/-shm removed, integrity_check after)" : "");
    std::printf("dry run: nothing was changed\n");
    return kExitOk;
  }
  if (!plan->held.empty() && !opt.force)
    return ReportError(Status::Aborted("restore refused: a database in " + opt.target + " is open by another process",
                                       "stop QuantMesh first (e.g. systemctl stop quantmesh), or pass --force; "
                                       "nothing was changed"));
  if (!yes) {
    if (!ctx.env->StdinIsTerminal())
      return ReportError(
          Status::InvalidArgument("restore into " + opt.target + " would replace data",
                                  "confirm on a terminal, or pass --yes in scripts; nothing was changed"));
    std::printf("A safety snapshot tagged before-restore is taken first. Type yes to restore: ");
    std::fflush(stdout);
    char line[64] = {0};
    if (std::fgets(line, sizeof(line), stdin) == nullptr || std::string(line) != "yes\n") {
      std::printf("\n");
      return ReportError(Status::Aborted("restore cancelled", "nothing was changed"));
    }
  }
  auto done = RestoreInPlace(repo, snap, opt, nullptr);
  if (!done.ok()) return ReportError(done.status().WithContext("restore failed"));
  if (done->safety_snapshot)
    std::printf("safety snapshot %s (tag before-restore) holds the data as it was\n",
                done->safety_snapshot->ShortHex().c_str());
  for (const std::string& s : done->restore.sidecars_removed) std::printf("removed stale %s\n", s.c_str());
  PrintIntegrity(done->restore.integrity);
  std::printf("restored snapshot %s into %s: %llu files, %s, %.2f s\n", snap.id.ShortHex().c_str(), opt.target.c_str(),
              static_cast<unsigned long long>(done->restore.files), HumanBytes(done->restore.bytes).c_str(),
              done->restore.duration_s);
  const std::string undo = done->safety_snapshot ? "; to undo: qm-snap restore " + done->safety_snapshot->ShortHex() +
                                                       " --target " + opt.target + " --yes"
                                                 : "";
  if (!done->restore.all_intact())
    return ReportError(Status::Corruption("a restored database fails integrity_check (see above)",
                                          "do not start QuantMesh on it" + undo));
  std::printf("next: start QuantMesh again (e.g. systemctl start quantmesh) and check its log%s\n", undo.c_str());
  return kExitOk;
}

}  // namespace

void RegisterRestore(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string snapshot;
    std::string target;
    std::string at;
    std::vector<std::string> includes, excludes;
    bool yes = false, force = false, dry_run = false, verify = false;
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
  cmd->add_option("-t,--target", args->target,
                  "Directory to restore into: new or empty, or one holding data (the live data directory: "
                  "confirmation, a safety snapshot and database checks are added)")
      ->required();
  cmd->add_option("--include", args->includes, "Only paths matching this glob (path, name or parent; repeatable)");
  cmd->add_option("--exclude", args->excludes, "Skip paths matching this glob (repeatable)");
  cmd->add_flag("--dry-run", args->dry_run, "Show what would be replaced or created, change nothing");
  cmd->add_flag("-y,--yes", args->yes, "Do not ask for confirmation (scripts)");
  cmd->add_flag("--force", args->force, "Restore even while another process holds a database open");
  cmd->add_flag("--verify", args->verify,
                "Into a new directory: run PRAGMA integrity_check on every restored database and fail if one does "
                "not pass (a restore over existing data always does)");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] {
      if (args->snapshot.empty() == args->at.empty())
        return ReportError(Status::InvalidArgument("restore: name a snapshot (or an archive), or give --at TIME"));
      if (IsArchivePath(args->snapshot)) return RestoreFromArchive(ctx, args->snapshot, args->target);
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      std::optional<int64_t> when;
      if (!args->at.empty()) {
        auto parsed = ParseTimeOrAgo(args->at, ctx.env->NowUnixNanos() / 1000000000);
        if (!parsed.ok()) return ReportError(parsed.status());
        when = *parsed;
      }
      auto snap = when ? (*repo)->FindSnapshotAt(*when) : (*repo)->FindSnapshot(args->snapshot);
      if (!snap.ok()) return ReportError(snap.status());
      // Say which snapshot --at picked and how far it is from the time asked for.
      if (when)
        std::printf("--at %s picked snapshot %s taken %s, %s before that time\n", args->at.c_str(),
                    snap->id.ShortHex().c_str(), FormatTimeIso(snap->record.time_unix).c_str(),
                    FormatDuration(*when - snap->record.time_unix).c_str());
      InPlaceRestoreOptions filter;
      filter.target = std::filesystem::absolute(args->target).lexically_normal().string();
      while (filter.target.size() > 1 && filter.target.back() == '/') filter.target.pop_back();
      filter.includes = args->includes;
      filter.excludes = args->excludes;
      filter.force = args->force;
      auto children = ctx.env->GetChildren(filter.target);
      if (children.ok() && !children->empty()) {
        if (!args->dry_run) {
          // The safety snapshot needs the store open for writing.
          repo->reset();
          repo = ctx.OpenRepo(OpenMode::kWrite);
          if (!repo.ok()) return ReportError(repo.status());
        }
        return RestoreOverExistingData(ctx, repo->get(), *snap, filter, args->dry_run, args->yes);
      }
      spdlog::info("restoring snapshot {} of {} taken {} into {}", snap->id.ShortHex(), snap->record.source,
                   FormatTimeIso(snap->record.time_unix), args->target);
      RestoreOptions opt(args->target);
      opt.check_databases = args->verify;
      if (!args->includes.empty() || !args->excludes.empty())
        opt.select = [filter](const std::string& rel) { return RestoreSelects(filter, rel); };
      if (args->dry_run) {
        std::printf("dry run: would restore snapshot %s into the new directory %s\n", snap->id.ShortHex().c_str(),
                    args->target.c_str());
        return kExitOk;
      }
      auto result = Restore(repo->get(), *snap, opt, nullptr);
      if (!result.ok()) return ReportError(result.status().WithContext("restore failed"));
      std::printf("restored snapshot %s: %llu files, %s, %.2f s\n", snap->id.ShortHex().c_str(),
                  static_cast<unsigned long long>(result->files), HumanBytes(result->bytes).c_str(),
                  result->duration_s);
      PrintIntegrity(result->integrity);  // empty without --verify
      if (!result->all_intact())
        return ReportError(Status::Corruption("a restored database fails integrity_check (see above)",
                                              "do not start QuantMesh on it"));
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
