import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PeregrineError } from '../errors.ts';
import { redactText } from '../redact.ts';

/** A subcommand: its own options, help text and entry point. Each lives in cli/commands/<name>.ts. */
export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  /** Returns the process exit code. */
  main(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

// The one list of subcommands; each module's default export is its Command.
const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  run: () => import('./commands/run.ts'),
  route: () => import('./commands/route.ts'),
  validate: () => import('./commands/validate.ts'),
  'ui-password': () => import('./commands/ui-password.ts'),
  deadletter: () => import('./commands/deadletter.ts'),
};

function topHelp(): string {
  return [
    'peregrine: runtime security for Linux hosts and Kubernetes',
    '',
    'usage: peregrine <command> [options]    (peregrine <command> --help for its options)',
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((n) => `  ${n}`),
  ].join('\n');
}

function commandHelp(name: string, cmd: Command): string {
  const lines = [`peregrine ${name}: ${cmd.summary}`, '', `usage: ${cmd.usage}`, '', 'options:'];
  for (const [opt, spec] of Object.entries(cmd.options)) {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    const arg = spec.type === 'string' ? ` <value>${spec.multiple ? ' (repeatable)' : ''}` : '';
    lines.push(`  ${short}--${opt}${arg}`);
  }
  lines.push('  -h, --help');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    console.log(topHelp());
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`peregrine: unknown command "${name}"\n\n${topHelp()}`);
    return 2;
  }
  const cmd = (await load()).default;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
    });
  } catch (err) {
    console.error(`peregrine ${name}: ${(err as Error).message}\n\n${commandHelp(name, cmd)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(commandHelp(name, cmd));
    return 0;
  }
  try {
    return await cmd.main(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof PeregrineError) {
      console.error(redactText(`peregrine ${name}: ${err.message} [${err.code}]`));
      return 1;
    }
    // Unexpected: the stack helps a bug report, but it passes the redaction helper like everything printed.
    console.error(redactText(`peregrine ${name}: unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`));
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // A command that failed may leave handles open (a half-started router); its error is printed: exit now.
  if (code !== 0) process.exit(code);
  process.exitCode = code;
}
