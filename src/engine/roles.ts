/**
 * Journal who holds an incident's roles (an IC hand-over, responders joining) or that it was a false
 * alarm, outside a capture or release: under the incident lock, then sealed like a release (a
 * release record with nothing restored covers the new lines), so `verify` still finds every event
 * sealed and the chain whole.
 */
import { BadInputError } from '../core/errors.js';
import type { CaptureEventBody } from '../core/events.js';
import { assertIncidentId } from '../core/incident-id.js';
import { localOperator } from '../core/tool-info.js';
import type { Case, EvidenceStore } from '../core/types.js';
import { foldRoles } from '../evidence/roles.js';
import { assertSignerContinues } from '../evidence/seals.js';
import { signerRef, type Signer } from '../evidence/signing.js';
import { openIncident } from './open-incident.js';
import { storeForCase } from './registry.js';
import { sealRelease } from './seal.js';

/** Roles as a command was told them: a commander (taking over, or named), responders joining. */
export interface RolesInput {
  commander?: string;
  responders?: string[];
  /** The commander takes over from whoever held the role (an IC hand-over). */
  takeOver?: boolean;
}

/**
 * The `roles.recorded` body for what `input` changes, given the roles journaled so far; undefined
 * when it changes nothing (a re-run journals nothing twice).
 */
export function rolesEvent(
  input: RolesInput,
  current: { commander?: string; responders: readonly string[] },
): Extract<CaptureEventBody, { type: 'roles.recorded' }> | undefined {
  const joining = (input.responders ?? []).filter((r) => !current.responders.includes(r));
  const commander = input.commander && input.commander !== current.commander ? input.commander : undefined;
  if (!commander && !joining.length) return undefined;
  return {
    type: 'roles.recorded',
    ...(commander ? { commander } : {}),
    responders: joining,
    takeOver: Boolean(commander && input.takeOver),
    ...(commander && current.commander ? { previousCommander: current.commander } : {}),
    by: localOperator(),
  };
}

export interface RecordRolesOptions {
  incident: string;
  roles?: RolesInput;
  /** Declare the incident a false alarm (journaled once). */
  falseAlarm?: boolean;
  stateDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Where a journal missing here is read from, and sealed to; default: the journaled case's store. */
  store?: EvidenceStore;
  /** Required when the incident was signed: the same key. */
  signer?: Signer;
}

/** Journal and seal a roles change or a false-alarm declaration; returns how many lines were added (0: nothing new). */
export async function recordIncidentRoles(
  options: RecordRolesOptions,
): Promise<{ added: number; journalPath: string }> {
  const env = options.env ?? process.env;
  assertIncidentId(options.incident);
  // A journal neither here nor in the store is bad input, named by the opener.
  const opened = await openIncident({ ...options, mode: 'release', env });
  const { journal, path } = opened;
  try {
    const current = foldRoles(journal.events);
    const bodies: CaptureEventBody[] = [];
    const roles = options.roles ? rolesEvent(options.roles, current) : undefined;
    if (roles) bodies.push(roles);
    if (options.falseAlarm && !current.falseAlarm)
      bodies.push({
        type: 'incident.false-alarm',
        ...((roles?.commander ?? current.commander) ? { commander: (roles?.commander ?? current.commander)! } : {}),
        by: localOperator(),
      });
    if (!bodies.length) return { added: 0, journalPath: path };
    const started = [...journal.events].reverse().find((e) => e.type === 'capture.started');
    const kase = started?.type === 'capture.started' ? (started.case as Case) : undefined;
    if (!kase)
      throw new BadInputError({
        field: 'incident',
        message: `${options.incident}: the journal has no capture`,
        continues: true,
      });
    // Checked before any line: a signed incident's seals are all signed with its key.
    const signer = options.signer ? await signerRef(options.signer) : undefined;
    assertSignerContinues(journal.events, signer, options.incident);
    for (const body of bodies) journal.append(body);
    await sealRelease(options.incident, {
      journal,
      store: options.store ?? storeForCase(kase, env, {}),
      emit: (body) => journal.append(body),
      ...(options.signer ? { signer: options.signer } : {}),
    });
    return { added: bodies.length, journalPath: path };
  } finally {
    opened.close();
  }
}
