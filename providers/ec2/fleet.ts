/**
 * What the EC2 steps of one capture share: reads batched across instances and read once (the
 * instance, its interfaces, volumes and protection attributes serve preserve, collect and contain),
 * tags written for many resources in one CreateTags, snapshot look-ups batched. Keyed by the
 * capture's client bundle, so nothing outlives the capture. A fleet pays a fixed number of Describe
 * calls per batch of instances instead of several per instance.
 */
import { batcher, memoized } from '../../src/core/batch.js';
import type { ProviderContext } from '../../src/core/types.js';
import {
  createTags,
  describeEnisOf,
  describeInstances,
  describeSnapshots,
  describeVolumesOf,
  instanceAttribute,
  MAX_FILTER_VALUES,
  snapshotsByTags,
  snapshotsOfSteps,
  type Ec2Clients,
  type Instance,
  type InstanceAttributeName,
  type NetworkInterface,
  type OwnedInstance,
  type Snapshot,
  type Volume,
} from './client.js';
import { ec2ClientsFor } from './context.js';

/** Resources per CreateTags call (the API's limit). */
export const MAX_TAG_RESOURCES = 1000;
/** Snapshot ids per DescribeSnapshots call. */
export const MAX_SNAPSHOT_IDS = 1000;

/** A value and when it was read (artifacts say when their content was acquired). */
export interface Read<T> {
  value: T;
  readAt: string;
}

/** The protection attributes as read, updated as preserve sets them. */
export type Attributes = Record<InstanceAttributeName, string | boolean | undefined>;

export interface Ec2Fleet {
  instance(id: string): Promise<Read<OwnedInstance | undefined>>;
  enis(instanceId: string): Promise<Read<NetworkInterface[]>>;
  volumes(instanceId: string): Promise<Read<Volume[]>>;
  attributes(instanceId: string): Promise<Read<Attributes>>;
  /** Preserve set an attribute: later readers see the value now in force without reading again. */
  setAttribute(instanceId: string, name: InstanceAttributeName, value: string | boolean): void;
  /** Tag resources; concurrent calls with the same tags share one CreateTags. */
  tag(resources: string[], tags: Record<string, string>): Promise<void>;
  /** This incident's snapshots taken by `stepId`, read now (after an interrupted request), batched. */
  snapshotsOfStep(stepId: string): Promise<Snapshot[]>;
  /**
   * This incident's snapshots taken by `stepId` as found once per capture: one filtered call for the
   * whole incident (empty on a first run), so a run without the journal still finds earlier sets.
   */
  snapshotsFoundAtStart(stepId: string): Promise<Snapshot[]>;
  /** Current state of snapshots (settle polls), batched across instances. */
  snapshotStates(ids: string[]): Promise<Snapshot[]>;
}

const fleets = new WeakMap<object, Ec2Fleet>();

/** The capture's shared EC2 reads and writes. */
export function ec2FleetFor(ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env' | 'incident'>): Ec2Fleet {
  let fleet = fleets.get(ctx.clients);
  if (!fleet) fleets.set(ctx.clients, (fleet = createFleet(ec2ClientsFor(ctx), ctx.incident)));
  return fleet;
}

function groupBy<T>(items: T[], keyOf: (t: T) => string[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items)
    for (const k of keyOf(item)) {
      const list = out.get(k) ?? [];
      list.push(item);
      out.set(k, list);
    }
  return out;
}

const stamp = <T>(value: T, readAt: string): Read<T> => ({ value, readAt });

function createFleet(c: Ec2Clients, incident: string): Ec2Fleet {
  const batch = { maxBatch: MAX_FILTER_VALUES };
  const instances = batcher(async (ids) => {
    const at = new Date().toISOString();
    const found = await describeInstances(c, { ids });
    return new Map(found.map((i) => [i.InstanceId!, stamp(i as Instance, at)]));
  }, batch);
  const enis = batcher(async (ids) => {
    const at = new Date().toISOString();
    const byInstance = groupBy(await describeEnisOf(c, ids), (e) =>
      e.Attachment?.InstanceId ? [e.Attachment.InstanceId] : [],
    );
    return new Map(ids.map((id) => [id, stamp(byInstance.get(id) ?? [], at)]));
  }, batch);
  const volumes = batcher(async (ids) => {
    const at = new Date().toISOString();
    const byInstance = groupBy(await describeVolumesOf(c, ids), (v) =>
      (v.Attachments ?? []).flatMap((a) => (a.InstanceId ? [a.InstanceId] : [])),
    );
    return new Map(ids.map((id) => [id, stamp(byInstance.get(id) ?? [], at)]));
  }, batch);
  const attributeCache = new Map<string, Promise<Read<Attributes>>>();
  const readAttributes = async (id: string): Promise<Read<Attributes>> => {
    const at = new Date().toISOString();
    // DescribeInstanceAttribute takes one attribute of one instance: three calls. The first goes
    // alone, so a throttled or refused instance costs one call per attempt, then two at once.
    const t = await instanceAttribute(c, id, 'disableApiTermination');
    const [s, b] = await Promise.all([
      instanceAttribute(c, id, 'disableApiStop'),
      instanceAttribute(c, id, 'instanceInitiatedShutdownBehavior'),
    ]);
    return stamp({ disableApiTermination: t, disableApiStop: s, instanceInitiatedShutdownBehavior: b }, at);
  };
  const byStep = batcher(async (stepIds) => {
    const found = await snapshotsOfSteps(c, incident, stepIds);
    return groupBy(found, (s) => (s.Tags ?? []).filter((t) => t.Key === 'holdfast:step').map((t) => t.Value!));
  }, batch);
  let incidentIndex: Promise<Map<string, Snapshot[]>> | undefined;
  const indexIncident = async () => {
    const found = await snapshotsByTags(c, { 'holdfast:incident': incident });
    return groupBy(found, (s) => (s.Tags ?? []).filter((t) => t.Key === 'holdfast:step').map((t) => t.Value!));
  };
  const states = batcher(async (ids) => new Map((await describeSnapshots(c, ids)).map((s) => [s.SnapshotId!, s])), {
    maxBatch: MAX_SNAPSHOT_IDS,
  });

  const pendingTags = new Map<string, { tags: Record<string, string>; waiters: TagWaiter[] }>();
  let tagsInFlight = 0;
  type TagWaiter = { resources: string[]; resolve: () => void; reject: (e: unknown) => void };
  const flushTags = () => {
    for (const [key, group] of pendingTags) {
      pendingTags.delete(key);
      const waiters: TagWaiter[] = [];
      const rest: TagWaiter[] = [];
      let count = 0;
      for (const w of group.waiters) {
        if (count + w.resources.length <= MAX_TAG_RESOURCES || !waiters.length) {
          waiters.push(w);
          count += w.resources.length;
        } else rest.push(w);
      }
      if (rest.length) pendingTags.set(key, { tags: group.tags, waiters: rest });
      tagsInFlight++;
      void (async () => {
        try {
          await createTags(c, [...new Set(waiters.flatMap((w) => w.resources))], group.tags);
          for (const w of waiters) w.resolve();
        } catch (error) {
          // One caller's resource may be the bad one: each tries alone, so only its own step fails.
          if (waiters.length === 1) waiters[0]!.reject(error);
          else for (const w of waiters) await createTags(c, w.resources, group.tags).then(w.resolve, w.reject);
        } finally {
          tagsInFlight--;
          if (pendingTags.size && !tagsInFlight) flushTags();
        }
      })();
    }
  };

  return {
    instance: memoized(async (id) => (await instances(id)) ?? stamp(undefined, new Date().toISOString())),
    enis: memoized(async (id) => (await enis(id))!),
    volumes: memoized(async (id) => (await volumes(id))!),
    attributes(id) {
      let p = attributeCache.get(id);
      if (!p) {
        p = readAttributes(id);
        p.catch(() => attributeCache.delete(id));
        attributeCache.set(id, p);
      }
      return p;
    },
    setAttribute(id, name, value) {
      const p = attributeCache.get(id);
      if (p)
        attributeCache.set(
          id,
          p.then((r) => ({ ...r, value: { ...r.value, [name]: value } })),
        );
    },
    tag(resources, tags) {
      const key = JSON.stringify(Object.entries(tags).sort());
      return new Promise<void>((resolve, reject) => {
        const group = pendingTags.get(key) ?? { tags, waiters: [] };
        group.waiters.push({ resources, resolve, reject });
        pendingTags.set(key, group);
        if (!tagsInFlight) setImmediate(() => !tagsInFlight && flushTags());
      });
    },
    async snapshotsOfStep(stepId) {
      return (await byStep(stepId)) ?? [];
    },
    async snapshotsFoundAtStart(stepId) {
      if (!incidentIndex) {
        incidentIndex = indexIncident();
        incidentIndex.catch(() => (incidentIndex = undefined));
      }
      return (await incidentIndex).get(stepId) ?? [];
    },
    async snapshotStates(ids) {
      return (await Promise.all(ids.map((id) => states(id)))).flatMap((s) => (s ? [s] : []));
    },
  };
}
