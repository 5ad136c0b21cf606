#!/usr/bin/env bash
# man_pages.sh LIB MAN_DIR [INCLUDE_DIR] — the manual covers the library: every function LIB
# exports is named in the NAME section of one page of MAN_DIR; every page has the sections of
# its kind and formats without a groff warning; MAN_DIR/meson.build installs every page and an
# alias page for every other name a NAME section gives. With INCLUDE_DIR (where supercache.h
# is), each exported function's page also has its prototype, as the header declares it, in its
# SYNOPSIS, and every EXAMPLE program compiles.
set -uo pipefail

lib=$1 man_dir=$2 inc=${3:-}
failures=0

fail() {
  echo "FAILED: $*"
  failures=$((failures + 1))
}

need() {
  command -v "$1" >/dev/null || {
    echo "FAILED: $1 not found (Debian package: $2)"
    exit 1
  }
}
need nm binutils
need man man-db
need groff groff-base
need perl perl-base
[[ -n $inc ]] && need "${CC:-cc}" gcc

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The lines of section $2 of page $1, as written (roff source).
section_src() {
  awk -v want="$2" '/^\.SH/ { s = $0; sub(/^\.SH[ \t]+/, "", s); gsub(/"/, "", s); on = (s == want); next } on' "$1"
}
# Whitespace runs made one space, and none after "(": a prototype however it is wrapped.
squeeze() {
  tr -s '[:space:]' ' ' | sed 's/( /(/g; s/^ //; s/ $//'
}

shopt -s nullglob
pages=("$man_dir"/*.[1-9])
((${#pages[@]})) || {
  echo "FAILED: no man pages in $man_dir"
  exit 1
}

declare -A page_of   # name -> page base name (sc_put_ttl -> sc_ttl)
declare -A file_of   # page base name -> file
aliases_wanted=()
examples=0
for page in "${pages[@]}"; do
  file=${page##*/}
  base=${file%.*} sec=${file##*.}
  file_of[$base]=$page

  read -r _ title th_sec _ < <(grep -m1 '^\.TH ' "$page") || true
  [[ ${title,,} == "${base,,}" && $th_sec == "$sec" ]] ||
    fail "$file: .TH says \"$title $th_sec\", the file name \"${base^^} $sec\""

  case $sec in
  3) required=(NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS EXAMPLE "SEE ALSO") ;;
  *) required=(NAME DESCRIPTION "SEE ALSO") ;;
  esac
  have=$(sed -n 's/^\.SH[[:space:]]\{1,\}//p' "$page" | tr -d '"')
  for s in "${required[@]}"; do
    grep -qxF "$s" <<<"$have" || fail "$file: no $s section"
  done

  # The page as man shows it, and all of groff's warnings (a bare --warnings asks for some
  # only: it misses unknown escapes and negative indents, for two).
  LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=80 man --warnings=w -E UTF-8 -l "$page" \
    >"$tmp/$base.txt" 2>"$tmp/$base.warnings"
  [[ -s $tmp/$base.warnings ]] && fail "$file: man --warnings: $(<"$tmp/$base.warnings")"

  # NAME: "a, b, c \- what they do"
  names=$(section_src "$page" NAME | awk '{ t = t " " $0 } END { sub(/\\-.*/, "", t); gsub(/\\&|[ \t]/, "", t); gsub(/,/, "\n", t); print t }')
  [[ -n $names ]] || fail "$file: the NAME section names nothing"
  for n in $names; do
    if [[ -n ${page_of[$n]:-} ]]; then
      fail "$n is named in the NAME sections of both ${page_of[$n]} and $base"
      continue
    fi
    page_of[$n]=$base
    [[ ${n,,} == "${base,,}" ]] || aliases_wanted+=("$n $base")
  done

  # The EXAMPLE's programs, unescaped, compiled.
  if [[ -n $inc ]] && grep -qxF EXAMPLE <<<"$have"; then
    section_src "$page" EXAMPLE | awk '/^\.EE/ { on = 0 } on { print } /^\.EX/ { on = 1 }' |
      perl -pe 's/\\(e|-|&|\(aq|\(dq|\(rs)/{ "e" => "\\", "-" => "-", "&" => "", "(aq" => "\x27", "(dq" => "\"", "(rs" => "\\" }->{$1}/ge' \
        >"$tmp/$base.c"
    if [[ ! -s $tmp/$base.c ]]; then
      fail "$file: the EXAMPLE section has no program between .EX and .EE"
    elif ! out=$("${CC:-cc}" -fsyntax-only -Wall -Wextra -Werror -I"$inc" -x c "$tmp/$base.c" 2>&1); then
      fail "$file: its EXAMPLE does not compile: $(head -5 <<<"$out")"
    else
      examples=$((examples + 1))
    fi
  fi
done

# Every exported function in some NAME section, with the header's prototype in that page's SYNOPSIS.
[[ -f $lib ]] || fail "no $lib"
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' | sort)
[[ -n $exported ]] || fail "$lib exports no function"
declare -A proto_of
header=${inc:+$inc/supercache.h}
[[ -z $header || -f $header ]] || fail "no $header"
if [[ -n $header && -f $header ]]; then
  # Each declaration, from SC_EXPORT to its semicolon, squeezed onto one line: "name prototype".
  while read -r name decl; do
    proto_of[$name]=$decl
  done < <(awk '
    /^SC_EXPORT/ { on = 1; d = "" }
    on { d = d " " $0 }
    on && /;/ {
      on = 0
      gsub(/[ \t]+/, " ", d); gsub(/\( /, "(", d); sub(/^ *SC_EXPORT /, "", d); sub(/ $/, "", d)
      if (match(d, /sc_[a-z_]+\(/)) print substr(d, RSTART, RLENGTH - 1), d
    }' "$header")
fi
declare -A synopsis_of
for sym in $exported; do
  base=${page_of[$sym]:-}
  if [[ -z $base ]]; then
    fail "$sym: exported by ${lib##*/} but named in the NAME section of no page"
    continue
  fi
  [[ -n $inc ]] || continue
  proto=${proto_of[$sym]:-}
  if [[ -z $proto ]]; then
    fail "$sym: exported, but supercache.h declares no SC_EXPORT prototype for it"
    continue
  fi
  [[ -n ${synopsis_of[$base]:-} ]] ||
    synopsis_of[$base]=$(awk '/^[A-Z]/ { on = ($0 == "SYNOPSIS"); next } on' "$tmp/$base.txt" | squeeze)
  [[ ${synopsis_of[$base]} == *"$proto"* ]] ||
    fail "$sym: the SYNOPSIS of ${file_of[$base]##*/} does not have its prototype: $proto"
done

# meson.build: installs every page, and an alias page for every other name of a NAME section.
build=$man_dir/meson.build
if [[ ! -f $build ]]; then
  fail "no $build"
else
  for page in "${pages[@]}"; do
    grep -qF "'${page##*/}'" "$build" || fail "$build does not install ${page##*/}"
  done
  for listed_page in $(grep -oE "'[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[1-9]'" "$build" | tr -d "'"); do
    [[ -f $man_dir/$listed_page ]] || fail "$build installs $listed_page, which is not in $man_dir"
  done
  listed=$(grep -oE "\[ *'[A-Za-z0-9_]+' *, *'[A-Za-z0-9_]+' *\]" "$build" | tr -d "[]' " | tr ',' ' ' | sort)
  wanted=$(printf '%s\n' "${aliases_wanted[@]}" | sort)
  if [[ $listed != "$wanted" ]]; then
    fail "the aliases of $build are not the names of the NAME sections (< wanted, > listed):
$(diff <(echo "$wanted") <(echo "$listed") | grep '^[<>]')"
  fi
fi

if ((failures)); then
  echo "$failures problem(s) with the man pages in $man_dir"
  exit 1
fi
summary="$(wc -w <<<"$exported") exported functions named in ${#pages[@]} pages"
summary+=" (${#aliases_wanted[@]} alias pages), no groff warning"
[[ -n $inc ]] && summary+=", every prototype in its SYNOPSIS, $examples examples compile"
echo "$summary"
