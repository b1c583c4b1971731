#!/usr/bin/env bash
# Checks the #include lines of lib/, gates/, config/ and daemon/ against the
# layering rules below: the arrows of DESIGN.md (daemon/ -> gates/, config/
# -> lib/; config/ -> gates/ only) and the one-way data path inside daemon/.
# Prints one line per offending include, naming the file, the line and the
# header, and exits 1; exits 0, silently, when every include is allowed.
# Usage: scripts/check-layering.sh   (from anywhere; `make check-layering`)
set -uo pipefail
set -f	# no globbing: "*" in the rules is a pattern, not a file list

# A file under FROM must not include, directly or through the headers it
# includes, anything a pattern of its rows names. Several rows may apply to
# one file. A file may always include a file of its own FROM folder.
#   dir/      a watchd file under dir/
#   *         any watchd file
#   <name.h>  a library header: name.h itself, or any file under name/
RULES='
# FROM          | MUST NOT INCLUDE                                        | BECAUSE
lib/            | *                                                       | lib/ knows nothing of watchd
gates/          | daemon/                                                 | the daemon sits on gates/, never under it
config/         | daemon/                                                 | the daemon sits on config/, never under it
gates/          | config/                                                 | the arrow runs config/ -> gates/ only
gates/          | <uv.h> <sqlite3.h> <git2.h>                             | gates/ is pure code over buffers and structs
config/         | <uv.h> <sqlite3.h> <git2.h>                             | config/ is pure code over buffers and structs
daemon/watch/   | daemon/run/ daemon/ledger/ daemon/ipc/ daemon/cli/      | watching comes first on the data path
daemon/run/     | daemon/ipc/ daemon/cli/                                 | running knows nothing of its callers
daemon/ledger/  | daemon/watch/ daemon/run/ daemon/ipc/ daemon/cli/       | the ledger stores what it is given
daemon/ipc/     | daemon/watch/ daemon/run/ daemon/ledger/ daemon/cli/    | ipc carries requests, it does not serve them
daemon/git/     | daemon/                                                 | git access stands alone
daemon/remote/  | daemon/watch/ daemon/run/ daemon/ledger/ daemon/ipc/ daemon/cli/ | the remote cache carries records, it does not judge
'

cd "$(dirname "$0")/.." || exit 2

rule_from=() rule_not=() rule_why=()
while IFS='|' read -r from not why; do
	from=$(echo $from) not=$(echo $not) why=$(echo $why)
	case $from in '' | '#'*) continue ;; esac
	rule_from+=("$from") rule_not+=("$not") rule_why+=("$why")
done <<<"$RULES"

# normalize PATH: sets NORM to PATH with "." dropped and ".." resolved
# textually (as the compiler does when it joins a folder and an include name)
normalize() {
	local IFS=/ part out=()
	for part in $1; do
		case $part in
		'' | .) ;;
		..) [ ${#out[@]} -gt 0 ] && unset 'out[${#out[@]}-1]' ;;
		*) out+=("$part") ;;
		esac
	done
	NORM="${out[*]}"
}

# Direct includes of every file, resolved as the compiler does with
# `-iquote .`: "name" in the including file's folder first, then from the
# top; <name> (and a "name" found in neither) is a system or library header.
# includes[FILE] holds lines "LINE KIND NAME" with KIND "tree" (NAME is then
# the resolved path) or "lib".
declare -A includes
files=$(find lib gates config daemon -name '*.[ch]' 2>/dev/null | sort)
for f in $files; do
	recs=
	while IFS=: read -r line text; do
		[[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*([\"\<])([^\"\>]+)[\"\>] ]] ||
			continue
		delim=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
		kind=lib path=$name
		if [ "$delim" = '"' ]; then
			# no command substitution here: a subshell per include made
			# the check take half a minute
			normalize "${f%/*}/$name"
			here=$NORM
			normalize "$name"
			top=$NORM
			if [ -f "$here" ]; then
				kind=tree path=$here
			elif [ -f "$top" ]; then
				kind=tree path=$top
			fi
		fi
		recs+="$line $kind $path"$'\n'
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$f")
	includes[$f]=$recs
done

# forbidden FILE KIND PATH: sets RULE to "FROM|PATTERN|WHY" of the first row that
# forbids FILE to include PATH (KIND as in includes[]); fails if none does.
forbidden() {
	local file=$1 kind=$2 path=$3 i pat
	for i in "${!rule_from[@]}"; do
		local from=${rule_from[$i]}
		[[ $file == "$from"* ]] || continue
		for pat in ${rule_not[$i]}; do
			case $kind:$pat in
			lib:\<*)
				pat=${pat#<} pat=${pat%>}
				[[ $path == "$pat" || $path == "${pat%.h}/"* ]] || continue ;;
			tree:\<*) continue ;;
			lib:*) continue ;;
			tree:\*) [[ $path != "$from"* ]] || continue ;;
			tree:*) [[ $path == "$pat"* && $path != "$from"* ]] || continue ;;
			esac
			RULE="$from|$pat|${rule_why[$i]}"
			return 0
		done
	done
	return 1
}

violations=0
for f in $files; do
	# Breadth first over the headers f pulls in, so each offending header
	# is named once, through the shortest chain of includes. via[H] says
	# how f reaches header H: "f:LINE: includes A, which includes H".
	declare -A via=([$f]="$f")
	queue=("$f")
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]} queue=("${queue[@]:1}")
		while read -r line kind path; do
			[ -n "$line" ] || continue
			what=$path
			[ "$kind" = lib ] && what="<$path>"
			if forbidden "$f" "$kind" "$path"; then
				rule=$RULE
				# an include that p's own rows forbid is reported at p
				if [ "$p" != "$f" ] && forbidden "$p" "$kind" "$path"; then
					continue
				fi
				IFS='|' read -r from pat why <<<"$rule"
				case $kind:$pat in
				lib:*) pat="<$pat>" ;;
				tree:\*) pat="anything of watchd outside $from" ;;
				esac
				if [ "$p" = "$f" ]; then
					where="$f:$line: includes $what"
				else
					where="${via[$p]}, which includes $what ($p:$line)"
				fi
				echo "check-layering: $where: $from must not include $pat ($why)" >&2
				violations=$((violations + 1))
			elif [ "$kind" = tree ] && [ -z "${via[$path]:-}" ]; then
				if [ "$p" = "$f" ]; then
					via[$path]="$f:$line: includes $path"
				else
					via[$path]="${via[$p]}, which includes $path"
				fi
				queue+=("$path")
			fi
		done <<<"${includes[$p]:-}"
	done
	unset via
done

if [ "$violations" -gt 0 ]; then
	echo "check-layering: $violations include(s) break the layering (rules: scripts/check-layering.sh)" >&2
	exit 1
fi
exit 0
