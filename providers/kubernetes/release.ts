/** Undo recorded label, annotation and cordon changes; the NetworkPolicy and PDB stay for the responders to remove. */
import { InternalError, RemoteError } from '../../src/errors.js';
import type { ChangeRecord, ReleaseContext } from '../../src/types.js';
import { nodePath, podPath } from './api-paths.js';
import { MERGE_PATCH } from './client.js';
import { kubeClientFor } from './context.js';

/** `pod:<ns>/<name>` or `node:<name>` → the object's path; other kinds are objects holdfast created. */
function pathOf(resource: string): string | undefined {
  const [kind, ref] = [resource.slice(0, resource.indexOf(':')), resource.slice(resource.indexOf(':') + 1)];
  if (kind === 'pod') return podPath(ref.split('/')[0]!, ref.split('/')[1]!);
  if (kind === 'node') return nodePath(ref);
  return undefined;
}

export async function releaseKube(change: ChangeRecord, ctx: ReleaseContext): Promise<{ restored: boolean; note?: string }> {
  if (change.attribute === 'created') return { restored: false, note: `${change.resource} stays in place: holdfast never deletes; remove it when the investigation is over` };
  const path = pathOf(change.resource);
  if (!path) throw new InternalError(`kubernetes cannot release ${change.resource}`);
  let body: unknown;
  // Merge patch: a null `before` removes the key holdfast added.
  if (change.attribute.startsWith('label:')) body = { metadata: { labels: { [change.attribute.slice('label:'.length)]: change.before } } };
  else if (change.attribute.startsWith('annotation:')) body = { metadata: { annotations: { [change.attribute.slice('annotation:'.length)]: change.before } } };
  else if (change.attribute === 'unschedulable') body = { spec: { unschedulable: change.before } };
  else throw new InternalError(`kubernetes cannot release ${change.attribute}`);
  const res = await kubeClientFor(ctx).send('PATCH', path, { body, contentType: MERGE_PATCH });
  if (res.status === 404) return { restored: false, note: `${change.resource} no longer exists` };
  if (res.status >= 400) throw new RemoteError(`release ${change.resource} ${change.attribute}: ${res.status} ${res.body?.message ?? ''}`.trim(), false);
  return { restored: true };
}
