#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "store/ops/store_stats.h"

namespace qm::cli {

void RegisterStats(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string snapshot;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("stats", "Sizes and deduplication of the store, or of one snapshot");
  cmd->add_option("snapshot", args->snapshot, "One snapshot (id, prefix, `latest`, @TIME); default: the whole store");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args]() -> int {
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      JsonWriter j;
      if (!args->snapshot.empty()) {
        auto snap = (*repo)->FindSnapshot(args->snapshot);
        if (!snap.ok()) return ReportError(snap.status());
        auto st = StatsOfSnapshot(repo->get(), *snap);
        if (!st.ok()) return ReportError(st.status().WithContext("stats failed"));
        const double ratio = st->bytes_stored ? double(st->bytes_logical) / double(st->bytes_stored) : 0;
        if (args->json) {
          j.BeginObject();
          j.Key("snapshot").String(snap->id.Hex());
          j.Key("files").Uint(st->files);
          j.Key("bytes_logical").Uint(st->bytes_logical);
          j.Key("chunks").Uint(st->chunks);
          j.Key("unique_chunks").Uint(st->unique_chunks);
          j.Key("bytes_unique").Uint(st->bytes_unique);
          j.Key("bytes_stored").Uint(st->bytes_stored);
          j.Key("dedup_ratio").Double(ratio);
          j.EndObject();
          std::printf("%s\n", j.str().c_str());
        } else {
          std::printf("snapshot %s: %llu files, %s logical; %llu chunks (%llu distinct, %s), %s stored; %.2fx\n",
                      snap->id.ShortHex().c_str(), static_cast<unsigned long long>(st->files),
                      HumanBytes(st->bytes_logical).c_str(), static_cast<unsigned long long>(st->chunks),
                      static_cast<unsigned long long>(st->unique_chunks), HumanBytes(st->bytes_unique).c_str(),
                      HumanBytes(st->bytes_stored).c_str(), ratio);
        }
        return kExitOk;
      }
      auto st = StatsOfStore(repo->get());
      if (!st.ok()) return ReportError(st.status().WithContext("stats failed"));
      const double ratio = st->pack_bytes ? double(st->bytes_logical) / double(st->pack_bytes) : 0;
      if (args->json) {
        j.BeginObject();
        j.Key("snapshots").Uint(st->snapshots);
        j.Key("packs").Uint(st->packs);
        j.Key("pack_bytes").Uint(st->pack_bytes);
        j.Key("blobs").Uint(st->blobs);
        j.Key("bytes_logical").Uint(st->bytes_logical);
        j.Key("dedup_ratio").Double(ratio);
        j.EndObject();
        std::printf("%s\n", j.str().c_str());
      } else {
        std::printf("store %s: %llu snapshots, %s logical in all; %llu packs, %s on disk, %llu blobs; %.2fx\n",
                    (*repo)->layout().root().c_str(), static_cast<unsigned long long>(st->snapshots),
                    HumanBytes(st->bytes_logical).c_str(), static_cast<unsigned long long>(st->packs),
                    HumanBytes(st->pack_bytes).c_str(), static_cast<unsigned long long>(st->blobs), ratio);
      }
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
