/** Undo recorded label, annotation and cordon changes; the NetworkPolicy and PDB stay for the responders to remove. */
import { InternalError, RemoteError } from '../../src/core/errors.js';
import type { ChangeRecord, JsonObject, ReleaseContext } from '../../src/core/types.js';
import { nodePath, podPath } from './api-paths.js';
import { MERGE_PATCH, messageOf, type KubernetesObject } from './client.js';
import { kubeClientFor } from './context.js';
import { getObject } from './discover.js';

/** `pod:<ns>/<name>` or `node:<name>` → the object's path; other kinds are objects holdfast created. */
function pathOf(resource: string): string | undefined {
  const [kind, ref] = [resource.slice(0, resource.indexOf(':')), resource.slice(resource.indexOf(':') + 1)];
  if (kind === 'pod') return podPath(ref.split('/')[0]!, ref.split('/')[1]!);
  if (kind === 'node') return nodePath(ref);
  return undefined;
}

/** The value of the changed attribute as it is now (undefined: absent). */
/** A pod or a node, as far as release reads it. */
type Changed = KubernetesObject & { spec?: { unschedulable?: boolean } };

function currentValue(live: Changed, attribute: string): unknown {
  if (attribute.startsWith('label:')) return live.metadata?.labels?.[attribute.slice('label:'.length)];
  if (attribute.startsWith('annotation:')) return live.metadata?.annotations?.[attribute.slice('annotation:'.length)];
  if (attribute === 'unschedulable') return live.spec?.unschedulable ?? false;
  throw new InternalError(`kubernetes cannot release ${attribute}`);
}

/** The merge patch that puts `before` back (a null `before` removes the key holdfast added). */
function restoringPatch(change: ChangeRecord): JsonObject {
  if (change.attribute.startsWith('label:'))
    return { metadata: { labels: { [change.attribute.slice('label:'.length)]: change.before } } };
  if (change.attribute.startsWith('annotation:'))
    return { metadata: { annotations: { [change.attribute.slice('annotation:'.length)]: change.before } } };
  return { spec: { unschedulable: change.before } };
}

export async function releaseKube(
  change: ChangeRecord,
  ctx: ReleaseContext,
): Promise<{ restored: boolean; note?: string }> {
  if (change.attribute === 'created')
    return {
      restored: false,
      note: `${change.resource} stays in place: holdfast never deletes; remove it when the investigation is over`,
    };
  const path = pathOf(change.resource);
  if (!path) throw new InternalError(`kubernetes cannot release ${change.resource}`);
  const client = kubeClientFor(ctx);
  const live = await getObject<Changed>(client, path);
  if (!live) return { restored: false, note: `${change.resource} no longer exists` };
  const now = currentValue(live, change.attribute) ?? null;
  const what = `${change.resource} ${change.attribute}`;
  if (JSON.stringify(now) === JSON.stringify(change.before ?? null))
    return { restored: true, note: `${what} was already back to ${JSON.stringify(change.before)}` };
  // Only undo what is still as holdfast left it: a value set since (by hand, or by another incident) is not ours to revert.
  if (JSON.stringify(now) !== JSON.stringify(change.after ?? null)) {
    return {
      restored: false,
      note: `${what} is ${JSON.stringify(now)} now, not ${JSON.stringify(change.after)} as holdfast set it: changed since capture; left as it is`,
    };
  }
  const res = await client.send('PATCH', path, { body: restoringPatch(change), contentType: MERGE_PATCH });
  if (res.status === 404) return { restored: false, note: `${change.resource} no longer exists` };
  if (res.status >= 400) throw new RemoteError(`release ${what}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
  return { restored: true };
}
