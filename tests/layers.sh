#!/usr/bin/env bash
# The layers of src/ (ARCHITECTURE.md, "Layers"): a file may include headers of its own folder
# and of the folders this table lets it reach, never one above or beside it.
#   common    nothing else: no API, no FUSE (log, clock, utf8, names, mounts, ...)
#   api       common: the OVH API client
#   fs        common, api: the ovhsnapfs daemon
#   auto      common: ovhsnapfs-auto, a client of the mounted tree (no API)
#   versions  common: ovhsnapfs-versions, a reader of the NFS mount (no API)
# Prints each include that climbs and ends with "layers: N files, M climbing includes";
# exits non-zero when M > 0 or a quoted include names no header of src/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

declare -A may=(
	[common]="common"
	[api]="common api"
	[fs]="common api fs"
	[auto]="common auto"
	[versions]="common versions"
)
declare -A home=()
for h in src/*/*.h; do
	home[$(basename "$h")]=$(basename "$(dirname "$h")")
done

files=0
bad=0
for f in src/*/*.[ch]; do
	folder=$(basename "$(dirname "$f")")
	files=$((files + 1))
	if [ -z "${may[$folder]:-}" ]; then
		echo "$f: folder '$folder' is not in the layer table (tests/layers.sh)"
		bad=$((bad + 1))
		continue
	fi
	while read -r inc; do
		[ "$inc" = build_config.h ] && continue # configure's, every layer's
		to=${home[$inc]:-}
		if [ -z "$to" ]; then
			echo "$f: includes \"$inc\", which is no header of src/"
			bad=$((bad + 1))
		elif [[ " ${may[$folder]} " != *" $to "* ]]; then
			echo "$f: includes $to/$inc: $folder may include only ${may[$folder]}"
			bad=$((bad + 1))
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
echo "layers: $files files, $bad climbing includes"
[ "$bad" -eq 0 ]
