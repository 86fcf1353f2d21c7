#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "store/ops/exporter.h"
#include "store/ops/uploader.h"

namespace qm::cli {

void RegisterExport(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string snapshot;
    std::string output_dir;
    std::string format = "tar.gz";
    int level = -1;
    int keep_days = 30;
    unsigned threads = 0;
    bool json = false;
    std::string upload;
    std::string endpoint;
  };
  auto args = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("export", "Write a snapshot as the guide's offsite archive, NAME.tar.gz + NAME.sha256");
  cmd->add_option("snapshot", args->snapshot, "Snapshot id, unique id prefix, or `latest`")->required();
  cmd->add_option("-o,--output-dir", args->output_dir, "Directory for the archive and its checksum file")->required();
  cmd->add_option("--format", args->format, "tar.gz (default), tar.zst or tar.xz");
  cmd->add_option("--level", args->level, "Compression level (gzip 1-12, default 6; zstd 1-19, 3; xz 0-9, 6)");
  cmd->add_option("--keep-days", args->keep_days,
                  "Remove archives made by qm-snap in the output directory older than this many days "
                  "(default 30; -1 keeps all)");
  cmd->add_option("--threads", args->threads, "Compression threads (default: one per core)");
  cmd->add_option("--upload", args->upload,
                  "Upload the archive, then its checksum file, to s3://BUCKET/PREFIX (AWS S3, Aliyun OSS, MinIO). "
                  "Also done when BACKUP_UPLOAD_ENABLED=true and QM_SNAP_UPLOAD names the destination");
  cmd->add_option("--endpoint", args->endpoint,
                  "S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS's regional endpoint)");
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] {
      auto format = ParseArchiveFormat(args->format);
      if (!format.ok()) return ReportError(format.status());
      UploadOptions upload;
      upload.url = args->upload;
      if (!args->endpoint.empty()) upload.endpoint = args->endpoint;
      const char* enabled = std::getenv("BACKUP_UPLOAD_ENABLED");
      if (upload.url.empty() && enabled != nullptr && std::string(enabled) == "true") {
        const char* dest = std::getenv("QM_SNAP_UPLOAD");
        if (dest == nullptr || *dest == '\0')
          return ReportError(
              Status::InvalidArgument("BACKUP_UPLOAD_ENABLED=true",
                                      "but no destination is configured: set QM_SNAP_UPLOAD=s3://BUCKET/PREFIX "
                                      "or pass --upload"));
        upload.url = dest;
      }
      if (!upload.url.empty()) {
        Status ok = CheckUpload(upload);
        if (!ok.ok()) return ReportError(ok.WithContext("upload is not configured"));
      }
      auto repo = ctx.OpenRepo(OpenMode::kReadOnly);
      if (!repo.ok()) return ReportError(repo.status());
      auto snap = (*repo)->FindSnapshot(args->snapshot);
      if (!snap.ok()) return ReportError(snap.status());
      spdlog::info("exporting snapshot {} taken {} to {}", snap->id.ShortHex(), FormatTimeIso(snap->record.time_unix),
                   args->output_dir);
      ExportOptions opt;
      opt.output_dir = args->output_dir;
      opt.compression = *format;
      opt.level = args->level;
      opt.keep_days = args->keep_days;
      opt.threads = args->threads;
      auto r = Export(repo->get(), *snap, opt, nullptr);
      if (!r.ok()) return ReportError(r.status().WithContext("export failed"));
      for (const std::string& p : r->removed) spdlog::info("retention: removed {}", p);
      std::optional<UploadResult> uploaded;
      if (!upload.url.empty()) {
        spdlog::info("uploading {} to {}", r->archive_path, upload.url);
        auto u = UploadExport(*r, upload);
        if (!u.ok())
          return ReportError(
              u.status().WithContext("the archive was written to " + r->archive_path + " and is kept there"));
        uploaded = *u;
      }
      if (args->json) {
        JsonWriter j;
        j.BeginObject();
        j.Key("snapshot_id").String(snap->id.Hex());
        j.Key("archive").String(r->archive_path);
        j.Key("checksum_file").String(r->checksum_path);
        j.Key("sha256").String(r->archive_sha256.Hex());
        j.Key("archive_bytes").Uint(r->archive_bytes);
        j.Key("tar_bytes").Uint(r->tar_bytes);
        j.Key("files").Uint(r->files);
        j.Key("data_bytes").Uint(r->data_bytes);
        j.Key("removed").BeginArray();
        for (const std::string& p : r->removed) j.String(p);
        j.EndArray();
        j.Key("duration_s").Double(r->duration_s);
        if (uploaded) {
          j.Key("uploaded").BeginObject();
          j.Key("archive").String(uploaded->archive_url);
          j.Key("checksum_file").String(uploaded->checksum_url);
          j.Key("duration_s").Double(uploaded->duration_s);
          j.EndObject();
        }
        j.EndObject();
        std::printf("%s\n", j.str().c_str());
      } else {
        std::printf("exported snapshot %s: %s (%llu files, %s -> %s, %.2f s)\n%s\n", snap->id.ShortHex().c_str(),
                    r->archive_path.c_str(), static_cast<unsigned long long>(r->files),
                    HumanBytes(r->data_bytes).c_str(), HumanBytes(r->archive_bytes).c_str(), r->duration_s,
                    r->checksum_path.c_str());
        if (uploaded)
          std::printf("uploaded %s and %s (%.2f s)\n", uploaded->archive_url.c_str(), uploaded->checksum_url.c_str(),
                      uploaded->duration_s);
      }
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
