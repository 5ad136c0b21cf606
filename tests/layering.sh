#!/usr/bin/env bash
# layering.sh — libshm's files include only their own layer and the layers below it that their meson.build names.
#
#   layering.sh LIBSHM_DIR LAYER=USED,USED ...   (the layers bottom to top, as libshm/meson.build lists them)
#
# A quoted include names its layer folder ("mem/rcu.h"); one that does not
# must be no header of the library's (supercache.h, the BPF side's). Within
# the library, no file may reach itself through includes: files are the
# modules (name.c with name.h), and their include graph must have no circle.
set -euo pipefail
root=$1
shift
declare -A rank uses
i=0
for spec in "$@"; do
  layer=${spec%%=*}
  rank[$layer]=$i
  uses[$layer]=",${spec#*=},"
  i=$((i + 1))
done

# The library's own headers, by file name: one of them included without its folder is a problem.
declare -A own_header
while IFS= read -r -d '' h; do
  own_header[${h##*/}]=1
done < <(find "$root" -path "$root/include" -prune -o -name '*.h' -print0)

problems=()
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
files=0
while IFS= read -r -d '' f; do
  rel=${f#"$root"/}
  layer=${rel%%/*}
  module=${rel%.*}
  files=$((files + 1))
  if [[ $rel != */* || -z ${rank[$layer]+x} ]]; then
    problems+=("$rel: not in a layer folder")
    continue
  fi
  echo "$module $module" >>"$edges"
  while IFS= read -r inc; do
    if [[ $inc != */* ]]; then
      if [[ -n ${own_header[$inc]+x} ]]; then
        problems+=("$rel: includes \"$inc\" without its layer folder")
      fi
      continue
    fi
    target=${inc%%/*}
    if [[ -z ${rank[$target]+x} ]]; then
      problems+=("$rel: includes \"$inc\", of no layer")
    elif ((rank[$target] > rank[$layer])); then
      problems+=("$rel: includes \"$inc\", of $target/, a layer above $layer/")
    elif [[ $target != "$layer" && ${uses[$layer]} != *",$target,"* ]]; then
      problems+=("$rel: includes \"$inc\", but $layer/meson.build does not name $target/ among the layers it uses")
    fi
    [[ ${inc%.h} == "$module" ]] || echo "$module ${inc%.h}" >>"$edges"
  done < <(sed -nE 's/^#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$f")
done < <(find "$root" -path "$root/include" -prune -o -name '*.[ch]' -print0)

if ! loop=$(tsort "$edges" 2>&1 >/dev/null) || [[ -n $loop ]]; then
  problems+=("the includes go round in a circle: $(echo "$loop" | sed -E "s/^tsort: ([^:]*: input contains a loop:)?//" | tr "\n" " ")")
fi
if ((${#problems[@]})); then
  printf '%s\n' "${problems[@]}"
  exit 1
fi
echo "$files files in ${#rank[@]} layers: every include goes down to a named layer, none in a circle"
