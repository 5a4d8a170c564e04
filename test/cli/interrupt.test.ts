/** Ctrl-C while a call hangs: the capture stops within 2 s, exits 130, and leaves a closed, whole journal. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { startFaultProxy } from '../../src/emulators/fault-proxy.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { startCli } from '../support/cli.js';
import { motoEc2, seedFleet } from '../support/fleet.js';

/** The promise: stopped within this long after Ctrl-C. */
const STOP_WITHIN_MS = 2_000;

describe('Ctrl-C', () => {
  it('stops a capture stuck in a black-holed call within 2 s, exit 130, journal closed', async () => {
    const moto = inject('motoEndpoint');
    const fleet = await seedFleet(motoEc2(moto), Math.random().toString(16).slice(2, 8), 1, 1);
    // Timeouts far longer than 2 s: only the abort can end this call in time.
    const proxy = await startFaultProxy(moto, { rules: [{ fault: 'hang', action: 'DescribeSnapshots' }] });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'hf-int-'));
      const incident = testIncident('INT');
      const env = motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint, HOLDFAST_STATE_DIR: join(cwd, 'state') });
      const run = startCli(
        ['capture', '--incident', incident, '--instance', fleet.instanceIds[0]!, '--no-contain', '--store', 'es'],
        { cwd, env },
      );
      const deadline = Date.now() + 60_000;
      while (!proxy.calls.some((c) => c.fault === 'hang') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(proxy.calls.some((c) => c.fault === 'hang')).toBe(true);
      const interruptedAt = Date.now();
      run.child.kill('SIGINT');
      const res = await run.done;
      const took = Date.now() - interruptedAt;
      expect(res.code, res.stderr).toBe(130);
      expect(took).toBeLessThan(STOP_WITHIN_MS);
      const check = checkJournalChain(readFileSync(join(cwd, 'state', incident, 'journal.ndjson'), 'utf8'));
      expect(check.problems).toEqual([]);
      expect(check.events.at(-1)?.type).toBe('capture.aborted');
    } finally {
      await proxy.close();
    }
  });
});
