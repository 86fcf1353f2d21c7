#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "core/time_format.h"

namespace qm::cli {
namespace {

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string s;
  for (const auto& t : tags) s += (s.empty() ? "" : ",") + t;
  return s;
}

}  // namespace

void RegisterSnapshots(CLI::App& app, CommandContext& ctx) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("snapshots", "List the snapshots in the repository, oldest first");
  cmd->add_flag("--json", *json, "Print a JSON array");
  cmd->callback([&ctx, json] {
    ctx.run = [&ctx, json] {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto snaps = (*repo)->ListSnapshots();
      if (!snaps.ok()) return ReportError(snaps.status());
      if (*json) {
        JsonWriter j;
        j.BeginArray();
        for (const Snapshot& s : *snaps) {
          const SnapshotRecord& r = s.record;
          j.BeginObject();
          j.Key("id").String(s.id.Hex());
          j.Key("short_id").String(s.id.ShortHex());
          j.Key("time").String(FormatTimeIso(r.time_unix));
          j.Key("time_unix").Int(r.time_unix);
          j.Key("hostname").String(r.hostname);
          j.Key("username").String(r.username);
          j.Key("source").String(r.source);
          j.Key("tags").BeginArray();
          for (const auto& t : r.tags) j.String(t);
          j.EndArray();
          j.Key("parent");
          if (r.parent)
            j.String(r.parent->Hex());
          else
            j.Null();
          j.Key("dbs_only").Bool(r.flags & kSnapshotDbsOnly);
          j.Key("partial").Bool(r.flags & kSnapshotPartial);
          j.Key("files").Uint(r.totals.files);
          j.Key("bytes_logical").Uint(r.totals.bytes_logical);
          j.Key("bytes_added").Uint(r.totals.bytes_added);
          j.Key("program_version").String(r.program_version);
          j.EndObject();
        }
        j.EndArray();
        std::printf("%s\n", j.str().c_str());
        return kExitOk;
      }
      std::printf("%-8s  %-25s  %-16s  %6s  %10s  %s\n", "ID", "Time", "Host", "Files", "Size", "Tags");
      for (const Snapshot& s : *snaps) {
        const SnapshotRecord& r = s.record;
        std::string tags = JoinTags(r.tags);
        if (r.flags & kSnapshotDbsOnly) tags += tags.empty() ? "(dbs-only)" : " (dbs-only)";
        if (r.flags & kSnapshotPartial) tags += tags.empty() ? "(partial)" : " (partial)";
        std::printf("%-8s  %-25s  %-16s  %6llu  %10s  %s\n", s.id.ShortHex().c_str(),
                    FormatTimeIso(r.time_unix).c_str(), r.hostname.c_str(),
                    static_cast<unsigned long long>(r.totals.files), HumanBytes(r.totals.bytes_logical).c_str(),
                    tags.c_str());
      }
      std::printf("%zu snapshot(s)\n", snaps->size());
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
