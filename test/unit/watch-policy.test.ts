/** The watch daemon's IAM policy and Kubernetes manifest grant what it calls, and nothing that deletes but DeleteMessage. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('watch permissions', () => {
  const policy = JSON.parse(read('policies/aws/watch.json')) as { Statement: Statement[] };
  const allowed = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap(actions);
  const denied = policy.Statement.filter((s) => s.Effect === 'Deny').flatMap(actions);

  it('policies/aws/watch.json allows exactly the SQS calls src/watch/client.ts sends', () => {
    const sent = [...read('src/watch/client.ts').matchAll(/new s\.(\w+)Command\(/g)].map((m) => `sqs:${m[1]}`);
    expect(new Set(sent)).toEqual(
      new Set(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']),
    );
    expect([...allowed].sort()).toEqual([...new Set(sent)].sort());
  });

  it('allows no delete but DeleteMessage and denies deleting, purging or re-pointing the queue', () => {
    expect(allowed.filter((a) => /Delete|Purge|Remove/.test(a))).toEqual(['sqs:DeleteMessage']);
    expect(denied).toEqual(expect.arrayContaining(['sqs:DeleteQueue', 'sqs:PurgeQueue', 'sqs:SetQueueAttributes']));
  });

  it('deploy/kubernetes/watch.yaml: two replicas on one ServiceAccount, leases in their namespace, never delete', () => {
    const docs = parseAllDocuments(read('deploy/kubernetes/watch.yaml')).map((d) => d.toJS() as Record<string, any>);
    const kind = (k: string) => docs.filter((d) => d.kind === k);
    const [deployment] = kind('Deployment');
    const [account] = kind('ServiceAccount');
    const [role] = kind('Role');
    const [binding] = kind('RoleBinding');
    expect(deployment!.spec.replicas).toBe(2);
    expect(deployment!.spec.template.spec.serviceAccountName).toBe(account!.metadata.name);
    const args: string[] = deployment!.spec.template.spec.containers[0].args;
    expect(args).toContain(`--lease=k8s:${role!.metadata.namespace}`);
    expect(args.find((a) => a.startsWith('--listen='))).toBeTruthy();
    expect(deployment!.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    expect(role!.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    expect(binding!.roleRef.name).toBe(role!.metadata.name);
    expect(binding!.subjects).toEqual([
      { kind: 'ServiceAccount', name: account!.metadata.name, namespace: account!.metadata.namespace },
    ]);
  });
});
