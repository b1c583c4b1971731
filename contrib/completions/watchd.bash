# bash completion for watchd: commands and their options (asked of the
# binary itself, so they never drift), actions, gate names from the config
# in force, run ids from the ledger.
# Installed by `make install`; or source it from ~/.bashrc.

_watchd_root_args() {
	# the global options typed so far, so that lookups ask the same ROOT
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--root|--config) printf '%s\n%s\n' "${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}"; ((i++)) ;;
		--root=*|--config=*) printf '%s\n' "${COMP_WORDS[i]}" ;;
		esac
	done
}

_watchd_gates() {
	local -a g
	mapfile -t g < <(_watchd_root_args)
	watchd "${g[@]}" config print 2>/dev/null |
		sed -n 's/^[[:space:]]*"name":[[:space:]]*"\([^"]*\)".*/\1/p'
}

_watchd_runs() {
	local -a g
	mapfile -t g < <(_watchd_root_args)
	watchd "${g[@]}" log --limit 30 2>/dev/null | awk 'NR > 1 && length($1) == 26 { print $1 }'
}

_watchd_commands() {
	watchd help 2>/dev/null | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'
}

_watchd_options() {
	watchd help "$1" 2>/dev/null | sed -n 's/^options://p' | grep -o -- '--[a-z-]*'
}

_watchd() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmd="" i nargs=0

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--root|--config) ((i++)) ;;
		-*) ;;
		*) if [ -z "$cmd" ]; then cmd=${COMP_WORDS[i]}; else ((nargs++)); fi ;;
		esac
	done

	case $prev in
	--root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--config|--report|--commit-msg) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--gate) COMPREPLY=($(compgen -W "$(_watchd_gates)" -- "$cur")); return ;;
	--format) COMPREPLY=($(compgen -W "text json junit sarif github codequality" -- "$cur")); return ;;
	--status) COMPREPLY=($(compgen -W "pass fail error interrupted" -- "$cur")); return ;;
	--color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	--limit|--timeout|--keep-days|--keep-runs|--since|--shard|--base) return ;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--root --config --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_watchd_commands)" -- "$cur"))
		fi
		return
	fi

	local words=""
	case $cmd in
	run) words=FILES ;;
	hook) [ $nargs -eq 0 ] && words="install uninstall" ;;
	service) [ $nargs -eq 0 ] && words="install uninstall print" ;;
	show) [ $nargs -eq 0 ] && words="$(_watchd_runs)" ;;
	config) [ $nargs -eq 0 ] && words="check print" ;;
	help) [ $nargs -eq 0 ] && words="$(_watchd_commands)" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_watchd_options "$cmd") --help" -- "$cur"))
	elif [ "$words" = FILES ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	fi
}

complete -F _watchd watchd
