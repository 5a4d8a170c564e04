/** A typo'd flag or a bad value: the problem, a suggestion and where help is — never the whole help. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const cases: [string, string[], string][] = [
  ['a typo in a flag', ['capture', '--incident', 'IR-2026-0042', '--instanse', 'i-0abc'], 'Did you mean --instance?'],
  ['a bad --severity', ['capture', '--incident', 'IR-2026-0042', '--severity', 'urgent'], 'high, medium, low'],
  [
    'a bad flag value the case check catches',
    ['capture', '--incident', 'IR-2026-0042', '--instance', 'web-1'],
    'web-1',
  ],
  ['an unknown command', ['captur', '--incident', 'IR-2026-0042'], 'Did you mean capture?'],
];

describe('short errors', () => {
  it.each(cases)('%s: at most 5 lines, the problem, the hint; exit 2', async (_label, args, problem) => {
    const res = await runCli(args);
    expect(res.code).toBe(2);
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(res.stderr).toContain(problem);
    expect(lines.at(-1)).toBe(args[0] === 'captur' ? 'see `evidence --help`' : 'see `evidence capture --help`');
    expect(res.stderr).not.toContain('Usage:');
    expect(res.stdout).toBe('');
  });
});
