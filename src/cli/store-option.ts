/** `--store` for commands that read an existing incident (status, verify, release). */
import { existsSync, readFileSync } from 'node:fs';
import { awsClientConfig } from '../aws/config.js';
import { journalPath } from '../engine/state-dir.js';
import { readJournalFromStore } from '../evidence/store-journal.js';
import { parseStoreSpec } from '../engine/case.js';
import { BadInputError, type InputProblem } from '../core/errors.js';
import { createStore } from '../engine/registry.js';
import type { EvidenceStore, StoreSpec } from '../core/types.js';

/** The evidence store a `--store` value (or an offline folder) names; the caller's own credentials. */
export function storeFromOption(value: unknown, region?: string): EvidenceStore {
  return storeFromSpec(storeSpecFromOption(value), region);
}

/** What a `--store` value names (s3:// or a folder), checked. */
export function storeSpecFromOption(value: unknown): StoreSpec {
  const problems: InputProblem[] = [];
  const spec = parseStoreSpec({ store: value }, problems, process.cwd());
  if (problems.length) throw new BadInputError(problems);
  return spec;
}

/** The evidence store a parsed spec (e.g. an incident's recorded store) names; the caller's own credentials. */
export function storeFromSpec(spec: StoreSpec, region?: string): EvidenceStore {
  const kase = region ? { region } : {};
  return createStore(spec, awsClientConfig({ kase, env: process.env, clients: {} }));
}

/**
 * An incident's journal text for the commands that read one (status, sitrep, report, export): the
 * local journal, else the newest copy in `--store`; bad input naming where it looked otherwise.
 */
export async function readIncidentJournal(incident: string, stateDir: string, store: unknown): Promise<string> {
  const path = journalPath(stateDir, incident);
  if (existsSync(path)) return readFileSync(path, 'utf8');
  if (typeof store === 'string') {
    const text = await readJournalFromStore(storeFromOption(store), incident);
    if (!text) throw new BadInputError(`--incident ${incident}: no journal in ${store}`);
    return text;
  }
  throw new BadInputError(
    `--incident ${incident}: no journal at ${path} (pass --store to read it from the evidence store)`,
  );
}
