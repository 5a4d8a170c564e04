/** `evidence providers`: each provider's flags, permissions (policy files) and an example. */
import type { Command } from 'commander';
import type { Provider } from '../../core/types.js';
import { createOutput } from '../output.js';

/** Register `providers`. */
export function registerProvidersCommand(program: Command, providers: readonly Provider[]): void {
  program
    .command('providers')
    .description('list providers, their flags, the policy files that grant what they call, and an example')
    .option('--json', 'as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  evidence providers\n  evidence providers --json | jq .policies')
    .action((opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      for (const p of providers) {
        out.data({
          type: 'provider',
          id: p.id,
          summary: p.summary,
          flags: p.flags,
          policies: p.policies,
          example: p.example,
        });
        out.say(`${p.id} — ${p.summary}`);
        for (const f of p.flags) out.say(`    ${f.flags.padEnd(34)} ${f.description}`);
        out.say(`  permissions: ${p.policies.join(', ') || 'none'}`);
        out.say(`  example: ${p.example}\n`);
      }
      if (!providers.length) out.say('no providers registered');
    });
}
