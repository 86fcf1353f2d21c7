#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "core/sqlite_extension.h"
#include "core/time_format.h"
#include "store/ops/archiver.h"

namespace qm::cli {
namespace {

struct BackupArgs {
  std::string source;
  bool dbs_only = false;
  bool force_read = false;
  bool json = false;
  std::vector<std::string> tags;
  std::vector<std::string> paths;
  std::vector<std::string> excludes;
  std::string time;
  std::string check_interval = "24h";
};

class LogSink : public ProgressSink {
 public:
  void Warning(const std::string& m) override { spdlog::warn("{}", m); }
  void ItemError(const std::string& path, const Status& s) override {
    spdlog::error("cannot read {}: {}", path, s.message());
  }
  void FileDone(const std::string& path, uint64_t size, bool reused) override {
    spdlog::debug("{} {} ({})", reused ? "unchanged" : "stored", path, HumanBytes(size));
  }
};

void PrintJson(const BackupResult& r) {
  const SnapshotTotals& t = r.record.totals;
  JsonWriter j;
  j.BeginObject();
  j.Key("snapshot_id").String(r.snapshot_id.Hex());
  j.Key("short_id").String(r.snapshot_id.ShortHex());
  j.Key("time").String(FormatTimeIso(r.record.time_unix));
  j.Key("parent");
  if (r.record.parent)
    j.String(r.record.parent->Hex());
  else
    j.Null();
  j.Key("files").Uint(t.files);
  j.Key("dirs").Uint(t.dirs);
  j.Key("bytes_logical").Uint(t.bytes_logical);
  j.Key("bytes_read").Uint(t.bytes_read);
  j.Key("bytes_added").Uint(t.bytes_added);
  j.Key("chunks_total").Uint(t.chunks_total);
  j.Key("chunks_new").Uint(t.chunks_new);
  j.Key("duration_s").Double(r.duration_s);
  j.Key("partial").Bool(!r.errors.empty());
  j.Key("databases").BeginArray();
  for (const auto& d : r.databases) {
    j.BeginObject();
    j.Key("path").String(d.path);
    j.Key("unchanged").Bool(d.unchanged);
    j.Key("read_hold_ms").Double(d.read_hold_ms);
    j.Key("page_size").Uint(d.page_size);
    j.Key("page_count").Uint(d.page_count);
    j.Key("journal_mode").String(d.wal ? "wal" : "rollback");
    j.Key("quick_check").String(QuickCheckText(d.quick_check));
    j.Key("last_check");
    if (d.last_check_ns > 0)
      j.String(FormatTimeIso(d.last_check_ns / 1000000000));
    else
      j.Null();
    if (d.quick_check_split) j.Key("quick_check_split").Bool(true);
    if (!d.unchanged) {
      j.Key("read_from").String(d.read_direct ? "files" : "backup_api");
      if (d.wal) j.Key("wal_pages_read").Uint(d.wal_frames_read);
    }
    j.Key("chunks_unchanged").Uint(d.chunks_unchanged);
    j.EndObject();
  }
  j.EndArray();
  j.Key("warnings").BeginArray();
  for (const auto& w : r.warnings) j.String(w);
  j.EndArray();
  j.Key("errors").BeginArray();
  for (const auto& e : r.errors) {
    j.BeginObject().Key("path").String(e.path).Key("error").String(e.status.message()).EndObject();
  }
  j.EndArray();
  j.EndObject();
  std::printf("%s\n", j.str().c_str());
}

}  // namespace

void RegisterBackup(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<BackupArgs>();
  auto* cmd = app.add_subcommand("backup", "Take a snapshot of a QuantMesh data directory");
  cmd->footer(
      "By default the snapshot holds the operators' guide's set, relative to --source:\n"
      "  data/quantmesh.db data/auth.db data/webauthn.db logs.db (with their -wal files),\n"
      "  config.yaml, config_backups/, and logs/ files of the last 7 days.\n"
      "--dbs-only takes the four databases alone (the hourly run).");
  cmd->add_option("-s,--source", args->source, "QuantMesh data directory")->required();
  cmd->add_flag("--dbs-only", args->dbs_only, "Only the four databases (hourly incremental)");
  cmd->add_option("--tag", args->tags, "Tag the snapshot (repeatable)");
  cmd->add_option("--path", args->paths, "Also take this path, relative to the source (repeatable)");
  cmd->add_option("--exclude", args->excludes, "Skip paths matching this glob (repeatable)");
  cmd->add_option("--time", args->time, "Record this snapshot time (ISO 8601 or YYYYMMDD_HHMMSS) instead of now");
  cmd->add_flag("--force-read", args->force_read, "Re-read every file even if unchanged since the parent");
  cmd->add_option("--check-interval", args->check_interval,
                  "Run PRAGMA quick_check on a changed database when its last check is this old (default 24h; "
                  "0: every run; --force-read always checks)");
  cmd->add_flag("--json", args->json, "Print the result as one JSON object");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] {
      BackupOptions opt;
      std::error_code ec;
      opt.source = std::filesystem::absolute(args->source, ec).lexically_normal().string();
      while (opt.source.size() > 1 && opt.source.back() == '/') opt.source.pop_back();
      opt.dbs_only = args->dbs_only;
      opt.force_read = args->force_read;
      auto interval = ParseDuration(args->check_interval);
      if (!interval.ok()) return ReportError(interval.status().WithContext("--check-interval"));
      opt.check_interval_s = *interval;
      opt.tags = args->tags;
      opt.extra_paths = args->paths;
      opt.excludes = args->excludes;
      if (!args->time.empty()) {
        auto t = ParseTime(args->time);
        if (!t.ok()) return ReportError(t.status().WithContext("--time"));
        opt.time_unix = *t;
      }
      auto repo = ctx.OpenRepo(OpenMode::kWrite);
      if (!repo.ok()) return ReportError(repo.status());
      LogSink sink;
      auto result = Backup(repo->get(), opt, &sink);
      if (!result.ok()) return ReportError(result.status().WithContext("backup failed, no snapshot was saved"));
      if (args->json) {
        PrintJson(*result);
      } else {
        const SnapshotTotals& t = result->record.totals;
        std::printf("snapshot %s saved: %llu files, %s read, %s added to the repository, %.2f s\n",
                    result->snapshot_id.ShortHex().c_str(), static_cast<unsigned long long>(t.files),
                    HumanBytes(t.bytes_read).c_str(), HumanBytes(t.bytes_added).c_str(), result->duration_s);
      }
      if (!result->errors.empty()) {
        spdlog::error("snapshot {} is partial: {} item(s) could not be read", result->snapshot_id.ShortHex(),
                      result->errors.size());
        return kExitPartial;
      }
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
