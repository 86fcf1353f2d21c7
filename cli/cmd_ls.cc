#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "store/ops/database_inspector.h"
#include "store/ops/snapshot_reader.h"

namespace qm::cli {
namespace {

std::string ModeString(const Node& n) {
  std::string s = n.type == NodeType::kDir ? "d" : n.type == NodeType::kSymlink ? "l" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; i++) s += (n.mode & (0400u >> i)) ? rwx[i] : '-';
  return s;
}

}  // namespace

void RegisterLs(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string snapshot, path;
    bool long_format = false, json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("ls", "List a snapshot's files (below PATH), without restoring anything");
  cmd->add_option("snapshot", args->snapshot, "Snapshot id, unique prefix, `latest`, or @TIME")->required();
  cmd->add_option("path", args->path, "Only what is at or below this path (e.g. data)");
  cmd->add_flag("-l,--long", args->long_format,
                "Mode, size and time; for databases also page size, pages and each table's row count");
  cmd->add_flag("--json", args->json, "Print a JSON array");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args]() -> int {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      Repository* r = repo->get();
      auto snap = r->FindSnapshot(args->snapshot);
      if (!snap.ok()) return ReportError(snap.status());
      auto top = LookupPath(r, *snap, args->path);
      if (!top.ok()) return ReportError(top.status());
      auto clean = CleanSnapshotPath(args->path);
      JsonWriter j;
      if (args->json) j.BeginArray();
      auto print = [&](const std::string& path, const Node& n) -> Status {
        std::optional<SqliteCaptureExt> db = DatabaseCaptureOf(n);
        std::optional<DatabaseSummary> summary;
        if (db && args->long_format) {
          auto s = InspectDatabase(r, n);
          if (!s.ok()) return s.status().WithContext("ls " + path);
          summary = std::move(s).value();
        }
        if (args->json) {
          j.BeginObject();
          j.Key("path").String(path);
          j.Key("type").String(n.type == NodeType::kDir ? "dir" : n.type == NodeType::kSymlink ? "symlink" : "file");
          j.Key("size").Uint(n.size);
          j.Key("mode").Uint(n.mode & 07777);
          j.Key("mtime").String(FormatTimeIsoUtc(n.mtime_ns / 1000000000));
          if (n.type == NodeType::kSymlink) j.Key("target").String(n.link_target);
          if (db) {
            j.Key("database").BeginObject();
            j.Key("page_size").Uint(db->page_size);
            j.Key("page_count").Uint(db->page_count);
            j.Key("quick_check").String(QuickCheckText(db->quick_check));
            j.Key("last_check");
            if (db->last_check_ns > 0)
              j.String(FormatTimeIsoUtc(db->last_check_ns / 1000000000));
            else
              j.Null();
            if (summary) {
              j.Key("tables").BeginArray();
              for (const TableSummary& t : summary->tables) {
                j.BeginObject();
                j.Key("name").String(t.name);
                j.Key("rows").Uint(t.rows);
                j.EndObject();
              }
              j.EndArray();
            }
            j.EndObject();
          }
          j.EndObject();
          return Status::OK();
        }
        if (!args->long_format) {
          std::printf("%s%s\n", path.c_str(), n.type == NodeType::kDir ? "/" : "");
          return Status::OK();
        }
        std::printf("%s %12llu %s %s%s", ModeString(n).c_str(), static_cast<unsigned long long>(n.size),
                    FormatTimeIso(n.mtime_ns / 1000000000).c_str(), path.c_str(), n.type == NodeType::kDir ? "/" : "");
        if (n.type == NodeType::kSymlink) std::printf(" -> %s", n.link_target.c_str());
        if (db)
          std::printf("  [SQLite, page size %u, %llu pages, quick_check %s%s]", db->page_size,
                      static_cast<unsigned long long>(db->page_count), QuickCheckText(db->quick_check).c_str(),
                      db->quick_check.empty() && db->last_check_ns > 0
                          ? (", last passed " + FormatTimeIso(db->last_check_ns / 1000000000)).c_str()
                          : "");
        std::printf("\n");
        if (summary)
          for (const TableSummary& t : summary->tables)
            std::printf("    table %-32s %12llu rows\n", t.name.c_str(), static_cast<unsigned long long>(t.rows));
        return Status::OK();
      };
      Status s;
      if (top->type == NodeType::kDir) {
        s = WalkTree(r, top->subtree, *clean, true, print);
      } else {
        s = print(*clean, *top);
      }
      if (!s.ok()) return ReportError(s);
      if (args->json) {
        j.EndArray();
        std::printf("%s\n", j.str().c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
