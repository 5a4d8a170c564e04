/**
 * `evidence drill`: a whole exercise with no cloud account. Starts the local emulators, seeds a
 * scenario, then runs plan → dry run → capture → verify → release through the same library a
 * responder's capture uses, reporting each stage's time and the sitrep.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { planCapture } from '../engine/capture.js';
import type { CaseInput } from '../engine/case.js';
import { startMoto, type MotoServer } from '../emulators/moto.js';
import type { CaptureEvent } from '../core/events.js';
import { executePlan, type CaptureOutcome } from '../engine/execute.js';
import { readJournalEvents } from '../evidence/journal.js';
import { awsClientConfig } from '../aws/config.js';
import { createStore } from '../engine/registry.js';
import { releaseContainment, type ReleaseOutcome } from '../engine/release.js';
import { buildSitrep, type Sitrep } from '../report/sitrep.js';
import { foldTimeline } from '../evidence/timeline.js';
import type { JsonObject, Provider } from '../core/types.js';
import { verifyEvidence, type VerifyReport } from '../evidence/verify.js';
import { seedAws, type SeededAws } from './client.js';

import { DRILL_SCENARIOS, SCENARIO_SPECS, type DrillScenario } from './scenarios.js';
import { TEST_SEAM } from '../core/test-seam.js';

export { DRILL_SCENARIOS, type DrillScenario };

/** A forensic workstation address for the drill (documentation range, never routed). */
export const DRILL_FORENSIC_CIDR = '198.51.100.10/32';

export interface DrillStage {
  stage: 'emulators' | 'seed' | 'plan' | 'dry-run' | 'capture' | 'approve' | 'verify' | 'release';
  ms: number;
  ok: boolean;
  detail: string;
}

export interface DrillReport {
  scenario: DrillScenario;
  incident: string;
  ok: boolean;
  stages: DrillStage[];
  engaged: string[];
  skipped: { provider: string; reason: string }[];
  capture?: CaptureOutcome;
  verify?: VerifyReport;
  release?: ReleaseOutcome;
  /** The final sitrep, after release. */
  sitrep?: Sitrep;
  /** The sitrep once the capture (and any approval) finished, before release. */
  containedSitrep?: Sitrep;
  /** How long each phase of the capture took, seal included (the last capture run). */
  phases?: { phase: string; ms: number | null }[];
  /** With a scenario that rehearses approval: the sitrep while containment waited. */
  waitingSitrep?: Sitrep;
  workdir: string;
}

/** Optional extra targets the drill can add when their local servers are available. */
export interface DrillExtension {
  provider: string;
  /** Start what the provider needs and return its targets, or the reason it cannot run here. */
  prepare(ctx: {
    seeded: SeededAws;
    suffix: string;
    env: NodeJS.ProcessEnv;
    workdir: string;
    /** Build local servers that are missing (e.g. --with-kubernetes), instead of skipping. */
    build: boolean;
    log: (line: string) => void;
  }): Promise<{ targets?: JsonObject; env?: NodeJS.ProcessEnv; reason?: string; stop?: () => Promise<void> }>;
}

export interface DrillOptions {
  scenario?: DrillScenario;
  providers: readonly Provider[];
  extensions?: readonly DrillExtension[];
  onEvent?: (event: CaptureEvent) => void;
  onStage?: (stage: DrillStage) => void;
  log?: (line: string) => void;
  /** Build the local Kubernetes servers when they are missing (Go needed; 15+ minutes the first time). */
  withKubernetes?: boolean;
}

/**
 * Each phase's duration in the last capture run, seal included: seal has no steps, so it runs from
 * capture.finished to capture.sealed.
 */
export function phaseTimings(events: readonly CaptureEvent[]): { phase: string; ms: number | null }[] {
  const lastStart = events.map((e) => e.type).lastIndexOf('capture.started');
  const run = lastStart >= 0 ? events.slice(lastStart) : events;
  const phases = foldTimeline(run).phases.map((p) => ({
    phase: p.phase,
    ms: p.endedAt ? Date.parse(p.endedAt) - Date.parse(p.startedAt) : null,
  }));
  const finished = run.find((e) => e.type === 'capture.finished');
  const sealed = run.find((e) => e.type === 'capture.sealed');
  if (finished) phases.push({ phase: 'seal', ms: sealed ? Date.parse(sealed.at) - Date.parse(finished.at) : null });
  return phases;
}

/** Run the drill end to end; emulators are stopped afterwards whatever happens. */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const scenario = options.scenario ?? 'web-compromise';
  const spec = SCENARIO_SPECS[scenario];
  const suffix = randomBytes(3).toString('hex');
  const incident = `IR-DRILL-${suffix}`;
  const workdir = mkdtempSync(join(tmpdir(), 'holdfast-drill-'));
  const report: DrillReport = { scenario, incident, ok: false, stages: [], engaged: [], skipped: [], workdir };
  const stops: (() => Promise<void>)[] = [];
  const stage = async <T>(
    name: DrillStage['stage'],
    fn: () => Promise<T>,
    describe: (t: T) => { ok: boolean; detail: string },
  ): Promise<T> => {
    const started = Date.now();
    try {
      const value = await fn();
      const d = describe(value);
      const s = { stage: name, ms: Date.now() - started, ...d };
      report.stages.push(s);
      options.onStage?.(s);
      return value;
    } catch (error) {
      const s = { stage: name, ms: Date.now() - started, ok: false, detail: (error as Error).message };
      report.stages.push(s);
      options.onStage?.(s);
      throw error;
    }
  };

  try {
    const moto: MotoServer = await stage(
      'emulators',
      () => startMoto({ logFile: join(workdir, 'moto.log'), ...(options.log ? { log: options.log } : {}) }),
      (m) => ({ ok: true, detail: `moto server at ${m.endpoint}` }),
    );
    stops.push(() => moto.stop());
    let env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'drill',
      AWS_SECRET_ACCESS_KEY: 'drill',
      AWS_REGION: 'us-east-1',
      [TEST_SEAM.awsMaxAttempts]: '2',
    };
    delete env.AWS_PROFILE;
    delete env.AWS_SESSION_TOKEN;
    const seeded = await stage(
      'seed',
      () => seedAws(moto.endpoint, suffix),
      (s) => ({
        ok: true,
        detail: `instance ${s.instanceId} (${s.networkInterfaceIds.length} ENIs, ${s.volumeIds.length} volumes, ASG ${s.autoScalingGroup}), RDS ${s.dbInstance}`,
      }),
    );

    const targets: Record<string, JsonObject> = {};
    const has = (id: string) => options.providers.some((p) => p.id === id);
    if (has('ec2')) targets.ec2 = { instances: [seeded.instanceId] };
    else report.skipped.push({ provider: 'ec2', reason: 'provider not registered' });
    if (has('rds')) targets.rds = { dbInstances: [seeded.dbInstance] };
    else report.skipped.push({ provider: 'rds', reason: 'provider not registered' });
    for (const ext of options.extensions ?? []) {
      if (!has(ext.provider)) {
        report.skipped.push({ provider: ext.provider, reason: 'provider not registered' });
        continue;
      }
      const prepared = await ext.prepare({
        seeded,
        suffix,
        env,
        workdir,
        build: Boolean(options.withKubernetes) && ext.provider === 'kubernetes',
        log: options.log ?? (() => {}),
      });
      if (prepared.stop) stops.push(prepared.stop);
      if (prepared.targets) {
        targets[ext.provider] = prepared.targets;
        env = { ...env, ...(prepared.env ?? {}) };
      } else report.skipped.push({ provider: ext.provider, reason: prepared.reason ?? 'not available here' });
    }
    report.engaged = Object.keys(targets);

    const caseInput: CaseInput = {
      incident,
      severity: spec.severity,
      forensicCidrs: [DRILL_FORENSIC_CIDR],
      store: `s3://${seeded.bucket}/evidence`,
      retainDays: 1,
      retentionMode: 'GOVERNANCE',
      targets,
    };
    const stateDir = join(workdir, 'state');
    const plan = await stage(
      'plan',
      () => planCapture(caseInput, { providers: options.providers, env }),
      (p) => ({ ok: true, detail: `${p.steps.length} steps` }),
    );
    const dry = await stage(
      'dry-run',
      () => executePlan(plan, { providers: options.providers, env, dryRun: true, stateDir }),
      (o) => ({
        ok: o.status === 'planned',
        detail: `${o.preflight?.length ?? 0} steps preflighted; ${o.preflight?.filter((r) => !r.ok).length ?? 0} not allowed`,
      }),
    );
    const run = (p: typeof plan) =>
      executePlan(p, {
        providers: options.providers,
        env,
        stateDir,
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      });
    const captured = (o: CaptureOutcome) =>
      `${o.status}: ${o.artifacts.length} artifacts, ${o.changes.length} changes, ${o.failures.length} failures`;
    report.capture = await stage(
      'capture',
      () => run(plan),
      (o) => ({
        ok: o.status === (spec.rehearseApproval ? 'awaiting-approval' : 'complete'),
        detail: `${captured(o)}${o.waiting.length ? `, ${o.waiting.length} steps waiting for approval` : ''}`,
      }),
    );
    if (spec.rehearseApproval) {
      report.waitingSitrep = buildSitrep(
        incident,
        readJournalEvents(report.capture.journalPath),
        new Date().toISOString(),
      );
      // The incident commander agrees: the same case with approval; finished steps are not repeated.
      const approved = await planCapture(
        { ...caseInput, approveContainment: true },
        { providers: options.providers, env },
      );
      report.capture = await stage(
        'approve',
        () => run(approved),
        (o) => ({ ok: o.status === 'complete', detail: `containment approved; ${captured(o)}` }),
      );
    }
    const store = createStore(plan.case.store, awsClientConfig({ kase: plan.case, env, clients: {} }));
    report.verify = await stage(
      'verify',
      () => verifyEvidence(store, incident),
      (v) => ({ ok: v.ok, detail: `${v.items.filter((i) => i.ok).length}/${v.items.length} checks passed` }),
    );
    const journaled = readJournalEvents(report.capture.journalPath);
    report.containedSitrep = buildSitrep(incident, journaled, new Date().toISOString());
    report.phases = phaseTimings(journaled);
    report.release = await stage(
      'release',
      () => releaseContainment({ incident, providers: options.providers, env, stateDir }),
      (r) => ({
        ok: r.failed.length === 0,
        detail: `${r.restored.length} changes restored, ${r.failed.length} failed`,
      }),
    );
    // The sitrep a drill ends with is the one after release: the exercise is over, nothing is contained.
    report.sitrep = buildSitrep(
      incident,
      readJournalEvents(report.release.journalPath ?? report.capture.journalPath),
      new Date().toISOString(),
    );
    report.ok = dry.status === 'planned' && report.stages.every((s) => s.ok);
    return report;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}
