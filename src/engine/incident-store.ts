/**
 * The evidence store each incident used, recorded beside its local journal, so status, verify and
 * release find the evidence without --store (and from any directory). Falls back to the store named
 * in the local journal's capture.started case, for journals written before this record existed.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StoreSpec } from '../core/types.js';
import { journalPath } from './state-dir.js';

export const INCIDENT_STORE_SCHEMA = 'holdfast/incident-store@1';

/** Where an incident's store record lives (beside its journal). */
export function incidentStorePath(stateDir: string, incident: string): string {
  return join(dirname(journalPath(stateDir, incident)), 'store.json');
}

/** The recorded store of an incident and where the answer came from. */
export interface IncidentStore {
  spec: StoreSpec;
  /** The case's AWS region, which the store's client used. */
  region?: string;
  /** 'record': store.json; 'journal': the local journal's capture.started case. */
  source: 'record' | 'journal';
  /** The file the answer was read from. */
  path: string;
}

/** Record (or re-record) the store an incident uses; written whole through a rename, never half. */
export function recordIncidentStore(stateDir: string, incident: string, spec: StoreSpec, region?: string): string {
  const path = incidentStorePath(stateDir, incident);
  mkdirSync(dirname(path), { recursive: true });
  const body = {
    schema: INCIDENT_STORE_SCHEMA,
    incident,
    store: spec,
    ...(region ? { region } : {}),
    recordedAt: new Date().toISOString(),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** The store an incident used, from its record or else its local journal; undefined when neither says. */
export function findIncidentStore(stateDir: string, incident: string): IncidentStore | undefined {
  const path = incidentStorePath(stateDir, incident);
  const recorded = readJson(path) as { schema?: string; store?: StoreSpec; region?: unknown } | undefined;
  if (recorded?.schema === INCIDENT_STORE_SCHEMA && isStoreSpec(recorded.store))
    return { spec: recorded.store, ...regionOf(recorded), source: 'record', path };
  const journal = journalPath(stateDir, incident);
  if (!existsSync(journal)) return undefined;
  // The newest capture.started names the store the capture wrote to.
  const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean).reverse();
  for (const line of lines) {
    const event = safeParse(line) as { type?: string; case?: { store?: unknown; region?: unknown } } | undefined;
    if (event?.type === 'capture.started' && event.case && isStoreSpec(event.case.store))
      return { spec: event.case.store, ...regionOf(event.case), source: 'journal', path: journal };
  }
  return undefined;
}

function regionOf(value: { region?: unknown }): { region?: string } {
  return typeof value.region === 'string' ? { region: value.region } : {};
}

function isStoreSpec(value: unknown): value is StoreSpec {
  const v = value as { kind?: unknown; dir?: unknown; bucket?: unknown } | undefined;
  return (v?.kind === 'fs' && typeof v.dir === 'string') || (v?.kind === 's3' && typeof v.bucket === 'string');
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function safeParse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
