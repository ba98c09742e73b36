// `weft`: the ops CLI. Local policy tools (check, eval, explain, connlist, compile, convert) work on files
// and need no hub; everything else talks to the hub API.
// Exit codes: 0 success, 1 the answer is "no" (a check failed), 2 bad usage or input.

const LOCAL_POLICY = new Set(['check', 'eval', 'explain', 'connlist', 'compile', 'convert']);

const USAGE = `usage: weft <command> [options]

local policy tools (no hub needed):
  weft policy check <files|dirs...>           validate manifests
  weft policy eval --manifests <dir> --queries <file.json>
  weft policy explain --manifests <dir> --from <E> --to <E> --port 443/TCP
  weft policy connlist --manifests <dir>
  weft policy compile --manifests <dir>
  weft policy convert <files|dirs...>         AdminNetworkPolicy/BaselineAdminNetworkPolicy -> ClusterNetworkPolicy

hub operations:
  weft login --hub <url> --token-file <file>
  weft site create|list|show|token|revoke|drain|undrain
  weft policy push|diff|history|what-if|rollout|status|pause|resume|rollback
  weft flows --site <id> [--verdict deny]
  weft release upload <dir|file.release.json> | list
  weft update rollout <version> [--canary a,b] [--percents 10,50] | status|pause|resume <id> | list | fleet
  weft link add <site> <site> | add --from k=v --to k=v [--same key] | list | rm <id>

every command takes --json`;

async function main(argv: string[]): Promise<number> {
  const [cmd, sub] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd ? 0 : 2;
  }
  if (cmd === 'policy' && sub && LOCAL_POLICY.has(sub)) {
    const { runPolicyCommand } = await import('./policy-commands.ts');
    return runPolicyCommand(sub, argv.slice(2));
  }
  const { runOpsCommand } = await import('./ops-commands.ts');
  return runOpsCommand(argv);
}

// `weft flows | head`: the reader leaving ends the output quietly, not with an EPIPE stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Only a bug reaches here: bad input is reported by the commands with exit 2.
    process.stderr.write(`weft: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 3;
  },
);
