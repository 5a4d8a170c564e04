/** `evidence providers`: each provider's flags, permissions (policy files) and an example. */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { packageRoot } from '../../core/tool-info.js';
import { builtinServices } from '../../engine/registry.js';
import type { Provider } from '../../core/types.js';
import { createOutput } from '../output.js';

/** A policy path as shipped (policies/…) made absolute in this installation. */
function installedPath(relative: string): string {
  return join(packageRoot(), relative);
}

/** Register `providers`. */
export function registerProvidersCommand(program: Command, providers: readonly Provider[]): void {
  program
    .command('providers')
    .description('list providers, their flags, the policy files that grant what they call, and an example')
    .option(
      '--policy <name>',
      'print one policy file (a provider or service id such as ec2 or s3-store, or a file name)',
    )
    .option('--json', 'as JSON on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence providers\n  evidence providers --policy ec2 > holdfast-ec2.json\n  evidence providers --json | jq .policies',
    )
    .action((opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      const holders = [
        ...providers.map((p) => ({ id: p.id, policies: p.policies })),
        ...builtinServices.map((s) => ({ id: s.id, policies: s.policies })),
      ];
      if (typeof opts.policy === 'string') {
        printPolicy(opts.policy, holders);
        return;
      }
      for (const p of providers) {
        const policies = p.policies.map(installedPath);
        out.data({ type: 'provider', id: p.id, summary: p.summary, flags: p.flags, policies, example: p.example });
        out.say(`${p.id} — ${p.summary}`);
        for (const f of p.flags) out.say(`    ${f.flags.padEnd(34)} ${f.description}`);
        out.say(`  permissions: ${policies.join(', ') || 'none (no cloud API; runs local tools)'}`);
        out.say(`  example: ${p.example}\n`);
      }
      for (const s of builtinServices) {
        const policies = s.policies.map(installedPath);
        out.data({ type: 'service', id: s.id, summary: s.summary, when: s.when, policies });
        out.say(`${s.id} — ${s.summary} (with ${s.when})`);
        out.say(`  permissions: ${policies.join(', ')}\n`);
      }
      if (!providers.length) out.say('no providers registered');
      out.say('print one: evidence providers --policy <id>');
    });
}

/** Print the policy files of one provider or service (or one file by name) to stdout, as shipped. */
function printPolicy(name: string, holders: { id: string; policies: string[] }[]): void {
  const byId = holders.find((h) => h.id === name)?.policies;
  const byFile = holders
    .flatMap((h) => h.policies)
    .filter((p) => [basename(p), basename(p, extname(p))].includes(name));
  const files = byId?.length ? byId : byFile;
  if (!files.length) {
    const known = holders.filter((h) => h.policies.length).map((h) => h.id);
    throw new BadInputError(
      byId
        ? `--policy ${name}: it calls no cloud API, so it has no policy`
        : `--policy ${name}: no such provider, service or policy file; one of: ${known.join(', ')}`,
    );
  }
  const texts = files.map((f) => {
    const path = installedPath(f);
    if (!existsSync(path)) throw new BadInputError(`--policy ${name}: ${path} is missing from this installation`);
    return readFileSync(path, 'utf8').trimEnd();
  });
  // Several Kubernetes roles print as one multi-document YAML stream, ready for kubectl apply -f -.
  process.stdout.write(`${texts.join('\n---\n')}\n`);
}
