/**
 * Incident leases on the real kube-apiserver (coordination.k8s.io/v1 Lease, compare-and-swap through
 * etcd): N contenders, exactly one winner per generation; a stale holder's fence refuses; release
 * lets the next holder in with the next generation.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createKubeLeaseApi } from '../../src/watch/client.js';
import { IncidentLeases, LeaseLostError, type HeldLease } from '../../src/watch/lease.js';
import { ok, useKubeServer } from '../support/kubernetes.js';

const kube = useKubeServer();
const CONTENDERS = 8;

async function namespace(): Promise<string> {
  const ns = `lease-${randomBytes(3).toString('hex')}`;
  await ok(kube(), 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  return ns;
}

describe('incident leases on the kube-apiserver', () => {
  it(`${CONTENDERS} contenders: exactly one winner per generation, over several expiries`, async () => {
    const ns = await namespace();
    const kubeconfig = kube().kubeconfigPath('admin');
    // Each contender its own client, as separate replicas would have.
    const contenders = await Promise.all(
      Array.from(
        { length: CONTENDERS },
        async (_, i) => new IncidentLeases(await createKubeLeaseApi({ namespace: ns, kubeconfig }), `replica-${i}`, 1),
      ),
    );
    const incident = `HF-EC2-${randomBytes(10).toString('hex')}`;
    const winners: { generation: number; holder: string }[] = [];
    for (let round = 0; round < 4; round++) {
      const got = (await Promise.all(contenders.map((c) => c.acquire(incident)))).filter((l): l is HeldLease =>
        Boolean(l),
      );
      expect(got, `round ${round}`).toHaveLength(1);
      winners.push({ generation: got[0]!.generation, holder: got[0]!.holder });
      // Nobody renews: the lease expires and the next round races again.
      await new Promise((r) => setTimeout(r, 1_100));
    }
    expect(winners.map((w) => w.generation)).toEqual([1, 2, 3, 4]);
    const lease = await (
      await createKubeLeaseApi({ namespace: ns, kubeconfig })
    ).read(`holdfast-${incident.toLowerCase()}`);
    expect(lease).toMatchObject({ generation: 4, holder: winners[3]!.holder });
  }, 60_000);

  it('a holder that lost its lease is fenced: assertHeld throws, renewal reports the loss; release hands over to the next generation', async () => {
    const ns = await namespace();
    const kubeconfig = kube().kubeconfigPath('admin');
    const a = new IncidentLeases(await createKubeLeaseApi({ namespace: ns, kubeconfig }), 'replica-a', 1);
    const b = new IncidentLeases(await createKubeLeaseApi({ namespace: ns, kubeconfig }), 'replica-b', 1);
    const incident = `HF-POD-${randomBytes(10).toString('hex')}`;
    const held = (await a.acquire(incident))!;
    expect(held.generation).toBe(1);
    expect(() => held.assertHeld()).not.toThrow();
    expect(await b.acquire(incident)).toBeUndefined();
    // A stalls past its term (a long GC pause, a partition); B takes over with generation 2.
    await new Promise((r) => setTimeout(r, 1_100));
    const taken = (await b.acquire(incident))!;
    expect(taken).toMatchObject({ generation: 2, takeover: true });
    expect(() => held.assertHeld()).toThrow(LeaseLostError);
    const lost = await new Promise<LeaseLostError>((resolve) => held.keepAlive(resolve));
    expect(lost.message).toMatch(/holdfast-hf-pod-[0-9a-f]+ \(generation 1\) (expired|was taken over)/);
    // B renews, then gives it back; A may take it again, at generation 3.
    await new Promise<void>((resolve, reject) => {
      taken.keepAlive(reject);
      setTimeout(resolve, 800);
    });
    expect(() => taken.assertHeld()).not.toThrow();
    await taken.release();
    expect(await a.acquire(incident)).toMatchObject({ generation: 3, takeover: false });
  }, 60_000);

  it("deploy/kubernetes/watch.yaml's Role is enough for leases (as its ServiceAccount) and cannot delete one", async () => {
    const ns = await namespace();
    const docs = parseAllDocuments(
      readFileSync(new URL('../../deploy/kubernetes/watch.yaml', import.meta.url), 'utf8'),
    ).map((d) => d.toJS() as Record<string, any>);
    const inNs = (d: Record<string, any>): Record<string, any> => ({
      ...d,
      metadata: { ...d.metadata, namespace: ns },
    });
    const account = inNs(docs.find((d) => d.kind === 'ServiceAccount')!);
    const role = inNs(docs.find((d) => d.kind === 'Role')!);
    const binding = inNs(docs.find((d) => d.kind === 'RoleBinding')!);
    binding.subjects = binding.subjects.map((s: Record<string, string>) => ({ ...s, namespace: ns }));
    await ok(kube(), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, account);
    await ok(kube(), 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, role);
    await ok(kube(), 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, binding);
    const token = await ok(kube(), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${account.metadata.name}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600 },
    });
    const kubeconfig = kube().kubeconfigForToken(`watch-${ns}`, token.status.token);
    const leases = new IncidentLeases(await createKubeLeaseApi({ namespace: ns, kubeconfig }), 'replica-sa', 2);
    const incident = `HF-IAM-${randomBytes(10).toString('hex')}`;
    // RBAC changes reach the authorizer within moments; retry the first acquire briefly.
    let held: HeldLease | undefined;
    for (let i = 0; i < 20 && !held; i++) {
      held = await leases.acquire(incident).catch(() => undefined);
      if (!held) await new Promise((r) => setTimeout(r, 250));
    }
    expect(held).toMatchObject({ generation: 1 });
    await held!.release();
    expect(await leases.acquire(incident)).toMatchObject({ generation: 2 });
    const name = `holdfast-${incident.toLowerCase()}`;
    // As the ServiceAccount: deleting a lease is refused (the Role has no delete).
    const denied = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${kube().server}/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`,
        { method: 'DELETE', ca: kube().caCert, headers: { authorization: `Bearer ${token.status.token}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(denied).toBe(403);
  }, 60_000);
});
