/** Undo recorded pod label and node changes; the NetworkPolicy and PDB stay for the responders. */
import { InternalError, RemoteError } from '../../src/errors.js';
import type { ChangeRecord, ReleaseContext } from '../../src/types.js';
import { MERGE_PATCH } from './client.js';
import { kubeClientFor } from './context.js';

export async function releaseKube(change: ChangeRecord, ctx: ReleaseContext): Promise<{ restored: boolean; note?: string }> {
  const client = kubeClientFor(ctx);
  const [kind, ref] = [change.resource.slice(0, change.resource.indexOf(':')), change.resource.slice(change.resource.indexOf(':') + 1)];
  const path = kind === 'pod' ? `/api/v1/namespaces/${ref.split('/')[0]}/pods/${ref.split('/')[1]}` : kind === 'node' ? `/api/v1/nodes/${ref}` : undefined;
  if (!path) throw new InternalError(`kubernetes cannot release ${change.resource}`);
  let body: unknown;
  if (change.attribute.startsWith('label:')) body = { metadata: { labels: { [change.attribute.slice(6)]: change.before } } };
  else if (change.attribute.startsWith('annotation:')) body = { metadata: { annotations: { [change.attribute.slice(11)]: change.before } } };
  else if (change.attribute === 'unschedulable') body = { spec: { unschedulable: change.before } };
  else throw new InternalError(`kubernetes cannot release ${change.attribute}`);
  const res = await client.send('PATCH', path, { body, contentType: MERGE_PATCH });
  if (res.status === 404) return { restored: false, note: `${change.resource} no longer exists` };
  if (res.status >= 400) throw new RemoteError(`release ${change.resource} ${change.attribute}: ${res.status} ${res.body?.message ?? ''}`, false);
  return { restored: true };
}
