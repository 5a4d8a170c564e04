/** `evidence drill` end to end: its own emulators, a seeded scenario, plan → dry run → capture → verify → release. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('evidence drill', () => {
  it(
    'runs the whole exercise with every provider and prints the sitrep and stage times',
    { timeout: 300_000 },
    async () => {
      const env = { ...process.env };
      delete env.AWS_ENDPOINT_URL;
      const res = await runCli(['drill', '--json'], { env });
      expect(res.stderr).toContain('drill passed');
      expect(res.code).toBe(0);
      const report = res.lines.find((l) => l.type === 'drill') as {
        ok: boolean;
        engaged: string[];
        stages: { stage: string; ok: boolean; ms: number }[];
        capture: { status: string; artifacts: { type: string }[] };
      };
      expect(report.ok).toBe(true);
      expect(report.engaged.sort()).toEqual(['dump', 'ec2', 'kubernetes', 'rds']);
      expect(report.stages.map((s) => s.stage)).toEqual([
        'emulators',
        'seed',
        'plan',
        'dry-run',
        'capture',
        'verify',
        'release',
      ]);
      const types = new Set(report.capture.artifacts.map((a) => a.type));
      for (const t of ['ebs-snapshot', 'rds-snapshot', 'postgres-dump', 'k8s-pod', 'k8s-events', 'k8s-log'])
        expect(types.has(t), t).toBe(true);
      // Printed: the final sitrep, after release; the one before release is kept in the report.
      expect(res.stderr).toMatch(/\[HIGH\] IR-DRILL-[0-9a-f]+ — released/);
      // What was contained, then released, with the forensic access it had.
      expect(res.stderr).toMatch(
        /Contained, then released:\n( {2}- .*\n)* {2}- i-[0-9a-f]+ \(web-[0-9a-z]+\): cut off/,
      );
      expect(res.stderr).not.toMatch(/\[HIGH\] IR-DRILL-[0-9a-f]+ — contained/);
      expect((report as unknown as { containedSitrep: { status: string } }).containedSitrep.status).toBe('contained');
      expect(res.stderr).toMatch(/phase seal\s+\d+ ms/);
      expect(res.stderr).toMatch(/✓ capture\s+\d+ ms/);
    },
  );

  it(
    'suspected-compromise rehearses the low-severity rule: evidence first, containment waits, then is approved',
    { timeout: 300_000 },
    async () => {
      const env = { ...process.env };
      delete env.AWS_ENDPOINT_URL;
      const res = await runCli(['drill', '--scenario', 'suspected-compromise', '--json'], { env });
      expect(res.code).toBe(0);
      const report = res.lines.find((l) => l.type === 'drill') as {
        ok: boolean;
        stages: { stage: string; detail: string }[];
        waitingSitrep: { status: string; waiting: string[] };
        sitrep: { status: string };
      };
      expect(report.stages.map((s) => s.stage)).toEqual([
        'emulators',
        'seed',
        'plan',
        'dry-run',
        'capture',
        'approve',
        'verify',
        'release',
      ]);
      expect(report.stages.find((s) => s.stage === 'capture')!.detail).toMatch(
        /^awaiting-approval: .* steps waiting for approval/,
      );
      expect(report.waitingSitrep.status).toBe('confirmed');
      expect(report.waitingSitrep.waiting.length).toBeGreaterThan(0);
      expect((report as unknown as { containedSitrep: { status: string } }).containedSitrep.status).toBe('contained');
      expect(report.sitrep.status).toBe('released');
      expect(res.stderr).toContain('While containment waited for approval');
      expect(res.stderr).toMatch(/\[LOW\] IR-DRILL-[0-9a-f]+ — confirmed: .* awaiting approval/);
    },
  );
});
