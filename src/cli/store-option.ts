/** `--store` for commands that read an existing incident (status, verify, release). */
import { awsClientConfig } from '../aws/config.js';
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
