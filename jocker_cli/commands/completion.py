"""`jocker completion bash`: a bash completion script (commands, management subcommands, flags of
the command being typed, container and image names from the daemon)."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "bash"
ARGS = (1, 1)
NO_CLIENT = True
SCRIPT = r"""# bash completion for jocker                                  -*- shell-script -*-
# source <(jocker completion bash)
_jocker_containers() { jocker ps -a --format '{{.Names}}' 2>/dev/null; }
_jocker_images() { jocker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>'; }
_jocker_networks() { jocker network ls --format '{{.Name}}' 2>/dev/null; }
_jocker() {
    local cur prev words cword
    cur="${COMP_WORDS[COMP_CWORD]}"
    local commands="__COMMANDS__"
    local i command="" sub=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -H|--host|--config|-l|--log-level) ((i++)) ;;
            -*) ;;
            *) if [ -z "$command" ]; then command="${COMP_WORDS[i]}"; elif [ -z "$sub" ]; then sub="${COMP_WORDS[i]}"; fi ;;
        esac
    done
    if [ -z "$command" ]; then
        COMPREPLY=($(compgen -W "$commands --host --help --version" -- "$cur"))
        return
    fi
    case "$command" in
__MANAGEMENT__
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(jocker $command $sub --help 2>/dev/null | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--?[a-z-]+')" -- "$cur"))
        return
    fi
    if [ "$command" = network ]; then
        COMPREPLY=($(compgen -W "$(_jocker_networks)" -- "$cur"))
        return
    fi
    case "${sub:-$command}" in
        run|create|pull|push|history|rmi|save|tag|images) COMPREPLY=($(compgen -W "$(_jocker_images)" -- "$cur")) ;;
        load|import) COMPREPLY=($(compgen -f -- "$cur")) ;;
        cp) COMPREPLY=($(compgen -f -- "$cur") $(compgen -S : -W "$(_jocker_containers)" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$(_jocker_containers)" -- "$cur")) ;;
    esac
}
complete -F _jocker jocker
"""  # noqa: E501


def add_arguments(parser) -> None:
    pass


def run(args, client) -> int:
    from jocker_cli.__main__ import COMMANDS, MANAGEMENT

    shell = args.positionals[0]
    if shell != "bash":
        raise CliError(f'unsupported shell "{shell}": jocker completes for bash')
    commands = " ".join(sorted([*COMMANDS, *MANAGEMENT]))
    cases = []
    for group, (_, subs) in MANAGEMENT.items():
        words = " ".join(sorted(subs))
        cases.append(
            f'        {group}) if [ -z "$sub" ]; then COMPREPLY=($(compgen -W "{words}" -- "$cur")); return; fi ;;'  # noqa: E501
        )
    sys.stdout.write(SCRIPT.replace("__COMMANDS__", commands).replace("__MANAGEMENT__", "\n".join(cases)))
    return 0
