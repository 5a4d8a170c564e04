#!/usr/bin/env node
/** The `evidence` (alias `holdfast`) command. Errors become exit codes here and nowhere else. */
import { Command, CommanderError } from 'commander';
import { HoldfastError } from '../core/errors.js';
import { builtinProviders } from '../engine/registry.js';
import { toolInfo } from '../core/tool-info.js';
import type { Provider } from '../core/types.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerCaptureCommands } from './commands/capture.js';
import { registerDrillCommand } from './commands/drill.js';
import { registerKeygenCommand } from './commands/keygen.js';
import { registerProvidersCommand } from './commands/providers.js';
import { registerReleaseCommand } from './commands/release.js';
import { registerStatusCommand } from './commands/status.js';
import { registerSitrepCommand } from './commands/sitrep.js';
import { registerReportCommand } from './commands/report.js';
import { registerExportCommand } from './commands/export.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerWatchCommand } from './commands/watch.js';
import { EXIT, exitCodeForError } from './exit-codes.js';
import { cliErrorText, errorJsonLine, inputNames } from './input-names.js';
import { pluginModule } from '../core/test-seam.js';

/** Providers from the test seam's plug-in module (a module exporting `providers`), for tests and site add-ons. */
async function pluginProviders(): Promise<Provider[]> {
  const path = pluginModule();
  if (!path) return [];
  const mod = (await import(path)) as { providers?: Provider[] };
  return mod.providers ?? [];
}

async function main(argv: string[]): Promise<number> {
  // holdfast supports Node 20 (engines); the SDK's upgrade notice only adds noise to a responder's screen.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const providers = [...builtinProviders, ...(await pluginProviders())];
  const names = inputNames(providers);
  const program = new Command('evidence')
    .description('holdfast: preserve, collect and contain before anyone changes anything; prove it afterwards')
    .version(String(toolInfo().version))
    .exitOverride()
    // A bad flag gets one or two lines (the problem, commander's suggestion) and where help is, not
    // the whole help text: at 3 a.m. the useful line must not scroll away.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'evidence: ')) });
  let active = '';
  program.hook('preSubcommand', (_parent, sub) => {
    active = sub.name();
  });
  registerCaptureCommands(program, providers);
  registerApplyCommand(program, providers);
  registerStatusCommand(program);
  registerSitrepCommand(program);
  registerReportCommand(program);
  registerExportCommand(program);
  registerVerifyCommand(program);
  registerReleaseCommand(program, providers);
  registerProvidersCommand(program, providers);
  registerKeygenCommand(program);
  registerDrillCommand(program, providers);
  registerWatchCommand(program);
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    // With --json a bot gets every error as one JSON line on stdout (code, field, message), beside the text.
    if (argv.includes('--json') && !(error instanceof CommanderError && error.exitCode === 0))
      process.stdout.write(
        `${JSON.stringify(
          error instanceof CommanderError
            ? { type: 'error', code: 'BAD_INPUT', field: '', message: error.message.replace(/^error: /, '') }
            : errorJsonLine(error, names),
        )}\n`,
      );
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok;
      process.stderr.write(`${helpHint(active)}\n`);
      return EXIT.badInput;
    }
    if (error instanceof HoldfastError) {
      process.stderr.write(`evidence: ${cliErrorText(error, names)}\n`);
      if (error.code === 'BAD_INPUT') process.stderr.write(`${helpHint(active)}\n`);
    } else {
      // Not one of ours: say what it is; the stack only when asked (it is noise at 3 a.m.).
      const detail = process.env.HOLDFAST_DEBUG
        ? ((error as Error)?.stack ?? String(error))
        : `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)} (set HOLDFAST_DEBUG=1 for the stack)`;
      process.stderr.write(`evidence: internal error: ${detail}\n`);
    }
    return exitCodeForError(error);
  }
}

/** Where the full help is, instead of printing it after every mistake. */
function helpHint(command: string): string {
  return `see \`evidence ${command ? `${command} ` : ''}--help\``;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`evidence: internal error: ${String(error)}\n`);
    process.exitCode = EXIT.internal;
  },
);
