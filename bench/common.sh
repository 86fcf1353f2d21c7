# Sourced by the end-to-end benchmarks that compare qm-snap with restic and borg
# (e2e_compare.sh, restore_after_hours.sh), so that they install the peers the same way
# and can share one WORK directory's generated data. The caller defines die and note.

# ensure_peer_tools: installs restic, borg, /usr/bin/time and zstd where one is missing
# (apt-get; root only).
ensure_peer_tools() {
  if ! command -v restic >/dev/null || ! command -v borg >/dev/null || [ ! -x /usr/bin/time ] ||
    ! command -v zstd >/dev/null; then
    [ "$(id -u)" = 0 ] || die "restic, borg, /usr/bin/time or zstd missing; run as root to install them (apt-get install restic borgbackup time zstd)"
    note "installing restic, borgbackup, time, zstd"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic borgbackup time zstd >/dev/null \
      || die "apt-get install restic borgbackup time zstd failed"
  fi
}

# ensure_generated_set ROOT WORK SIZE JOURNAL: WORK/gen holds `qm_workload.py generate
# --size SIZE --seed 1 --journal JOURNAL` (delete or wal), dated now. WORK/gen.marker
# names the size (and the journal mode unless delete): a set with the same marker is
# reused, any other is generated again.
ensure_generated_set() {
  local root=$1 work=$2 size=$3 journal=$4
  local marker="$work/gen.marker" want="size=$size seed=1"
  case "$journal" in delete|wal) ;; *) die "--journal must be delete or wal, not '$journal'" ;; esac
  [ "$journal" = delete ] || want="$want journal=$journal"
  if [ -d "$work/gen" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then
    note "reusing generated data in $work/gen ($want)"
    return 0
  fi
  rm -rf "$work/gen" "$marker"
  note "generating $size data directory in $work/gen (takes 3-5 min per GiB)"
  python3 "$root/tools/qm_workload.py" generate "$work/gen" --size "$size" --seed 1 \
    --now "$(date +%Y-%m-%dT%H:%M:%S)" --journal "$journal" >&2 || die "qm_workload.py generate failed"
  printf '%s\n' "$want" > "$marker"
}
