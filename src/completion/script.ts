/**
 * The shell side of name completion: a bash function (zsh runs it through bashcompinit) that
 * completes a topic, group, profile, service or projection where one is expected — after
 * --topic/-t, --group, --handoff-group, --profile, --service, --projection, and as the first
 * argument of tail, produce, topics (topics) and checkpoints, groups (groups) — by asking
 * `es __complete`, and leaves everything else (commands, flags) to oclif's autocomplete function
 * when it is loaded (`es autocomplete`).
 */
export type CompletionShell = 'bash' | 'zsh'

const BASH = `# es: names from the cluster and the config (es completion bash)
_es_names() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" kind=""
  case "$prev" in
    --topic|-t) kind=topics ;;
    --group|--handoff-group) kind=groups ;;
    --profile) kind=profiles ;;
    --service) kind=services ;;
    --projection) kind=projections ;;
  esac
  if [[ -z "$kind" && "$cur" != -* && "$prev" != -* && $COMP_CWORD -eq 2 ]]; then
    case "\${COMP_WORDS[1]}" in
      tail|produce|topics) kind=topics ;;
      checkpoints|groups) kind=groups ;;
    esac
  fi
  if [[ -n "$kind" ]]; then
    local IFS=$'\\n'
    COMPREPLY=($(es __complete "$kind" "$cur" 2>/dev/null))
    return 0
  fi
  if declare -F _es_autocomplete >/dev/null; then _es_autocomplete; fi
}
complete -o default -F _es_names es
`

export function completionScript(shell: CompletionShell): string {
  return shell === 'bash' ? BASH : `autoload -U +X bashcompinit && bashcompinit\n${BASH}`
}
