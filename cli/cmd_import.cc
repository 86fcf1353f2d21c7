#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "store/ops/archive_importer.h"

namespace qm::cli {

void RegisterImport(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string archive;
    std::vector<std::string> tags;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "import", "Bring an exported archive into the store as a snapshot with its original time, host and source");
  cmd->add_option("archive", args->archive, "NAME.tar.gz (or .tar.zst, .tar.xz), with NAME.sha256 beside it")
      ->required();
  cmd->add_option("--tag", args->tags, "Extra tag for the snapshot (repeatable; it is always tagged `imported`)");
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] {
      auto repo = ctx.OpenRepo(OpenMode::kWrite);
      if (!repo.ok()) return ReportError(repo.status());
      ImportOptions opt;
      opt.archive = args->archive;
      opt.tags = args->tags;
      auto r = ImportArchive(repo->get(), opt, nullptr);
      if (!r.ok()) return ReportError(r.status().WithContext("import failed"));
      if (!r->report.ok())
        return ReportProblems(r->report.problems, "import refused: archive " + args->archive, "nothing was stored");
      const BackupResult& b = *r->backup;
      if (args->json) {
        JsonWriter j;
        j.BeginObject();
        j.Key("snapshot_id").String(b.snapshot_id.Hex());
        j.Key("original_snapshot_id").String(r->report.info.snapshot_id);
        j.Key("time").String(FormatTimeIsoUtc(b.record.time_unix));
        j.Key("hostname").String(b.record.hostname);
        j.Key("source").String(b.record.source);
        j.Key("files").Uint(b.record.totals.files);
        j.Key("bytes").Uint(b.record.totals.bytes_logical);
        j.Key("bytes_added").Uint(b.record.totals.bytes_added);
        j.EndObject();
        std::printf("%s\n", j.str().c_str());
      } else {
        std::printf("imported %s as snapshot %s (taken %s on %s from %s): %llu files, %s, %s added to the store\n",
                    args->archive.c_str(), b.snapshot_id.ShortHex().c_str(), FormatTimeIso(b.record.time_unix).c_str(),
                    b.record.hostname.c_str(), b.record.source.c_str(),
                    static_cast<unsigned long long>(b.record.totals.files),
                    HumanBytes(b.record.totals.bytes_logical).c_str(), HumanBytes(b.record.totals.bytes_added).c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
