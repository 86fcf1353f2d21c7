#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "store/ops/snapshot_diff.h"

namespace qm::cli {
namespace {

const char* KindName(PathChange::Kind k) {
  return k == PathChange::Kind::kAdded ? "added" : k == PathChange::Kind::kRemoved ? "removed" : "modified";
}

std::string Rows(int64_t n) {
  return n < 0 ? std::string("-") : std::to_string(n);
}

}  // namespace

void RegisterDiff(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string a, b;
    bool json = false, no_tables = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "diff", "What changed from snapshot A to B: paths added, removed, modified; pages and tables of databases");
  cmd->add_option("a", args->a, "Older snapshot (id, prefix, `latest`, @TIME)")->required();
  cmd->add_option("b", args->b, "Newer snapshot")->required();
  cmd->add_flag("--no-tables", args->no_tables, "Skip per-table row counts (which read both versions of a database)");
  cmd->add_flag("--json", args->json, "Print a JSON array");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args]() -> int {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto a = (*repo)->FindSnapshot(args->a);
      if (!a.ok()) return ReportError(a.status());
      auto b = (*repo)->FindSnapshot(args->b);
      if (!b.ok()) return ReportError(b.status());
      DiffOptions opt;
      opt.with_tables = !args->no_tables;
      auto changes = DiffSnapshots(repo->get(), *a, *b, opt);
      if (!changes.ok()) return ReportError(changes.status().WithContext("diff failed"));
      if (args->json) {
        JsonWriter j;
        j.BeginArray();
        for (const PathChange& c : *changes) {
          j.BeginObject();
          j.Key("change").String(KindName(c.kind));
          j.Key("path").String(c.path);
          j.Key("size_before").Uint(c.size_before);
          j.Key("size_after").Uint(c.size_after);
          if (c.database && c.kind == PathChange::Kind::kModified) {
            j.Key("pages_changed").Uint(c.pages_changed);
            j.Key("page_size").Uint(c.page_size);
            j.Key("tables").BeginArray();
            for (const TableChange& t : c.tables) {
              j.BeginObject();
              j.Key("name").String(t.name);
              j.Key("rows_before").Int(t.rows_before);
              j.Key("rows_after").Int(t.rows_after);
              j.Key("schema_changed").Bool(t.schema_changed);
              j.EndObject();
            }
            j.EndArray();
          }
          j.EndObject();
        }
        j.EndArray();
        std::printf("%s\n", j.str().c_str());
        return kExitOk;
      }
      std::printf("diff %s -> %s\n", a->id.ShortHex().c_str(), b->id.ShortHex().c_str());
      for (const PathChange& c : *changes) {
        const char mark = c.kind == PathChange::Kind::kAdded ? '+' : c.kind == PathChange::Kind::kRemoved ? '-' : 'M';
        std::printf("%c  %s%s", mark, c.path.c_str(), c.type == NodeType::kDir ? "/" : "");
        if (c.kind == PathChange::Kind::kModified && c.type == NodeType::kFile)
          std::printf("  %s -> %s", HumanBytes(c.size_before).c_str(), HumanBytes(c.size_after).c_str());
        else if (c.type == NodeType::kFile)
          std::printf("  %s", HumanBytes(c.kind == PathChange::Kind::kAdded ? c.size_after : c.size_before).c_str());
        if (c.database && c.kind == PathChange::Kind::kModified)
          std::printf("  (%llu pages of %u bytes changed)", static_cast<unsigned long long>(c.pages_changed),
                      c.page_size);
        std::printf("\n");
        for (const TableChange& t : c.tables) {
          const long long delta = (t.rows_after < 0 ? 0 : t.rows_after) - (t.rows_before < 0 ? 0 : t.rows_before);
          std::printf("     table %-28s %s -> %s rows (%+lld)%s\n", t.name.c_str(), Rows(t.rows_before).c_str(),
                      Rows(t.rows_after).c_str(), delta, t.schema_changed ? "  schema changed" : "");
        }
      }
      std::printf("%zu change(s)\n", changes->size());
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
