/**
 * Logical database dumps (pg_dump custom format, mariadb-dump single-transaction) streamed
 * through the engine's hashing into the evidence store: constant memory, no temp file, and a
 * dump whose tool fails or is killed is never recorded as complete.
 */
import { runByAction } from '../../src/core/provider-kit.js';
import type { Provider } from '../../src/core/types.js';
import { discoverDumps } from './discover.js';
import type { DumpFacts } from './facts.js';
import { dumpFlags, parseDumpParams, type DumpParams } from './params.js';
import { dumpParamsInput, parseDumpStep } from './parse-step.js';
import { planDump } from './plan.js';
import { runDump } from './run-collect.js';
import type { DumpActions, DumpStep } from './steps.js';

export const dumpProvider = {
  id: 'dump',
  summary: 'logical dumps of PostgreSQL (pg_dump -Fc) and MariaDB/MySQL (single transaction), streamed and hashed',
  flags: dumpFlags,
  policies: [],
  example:
    'DB_PW=… evidence capture --incident IR-2026-0042 --dump postgres://forensic@db.internal:5432/orders --dump-password-env DB_PW',
  parseParams: parseDumpParams,
  savedPlan: { parseStep: parseDumpStep, paramsInput: dumpParamsInput },
  discover: discoverDumps,
  plan: planDump,
  run: runByAction<DumpActions>('dump', { dump: runDump }),
} satisfies Provider<DumpParams, DumpFacts, DumpStep>;
