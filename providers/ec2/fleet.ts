/**
 * What the EC2 steps of one capture share: reads batched across instances and read once (the
 * instance, its interfaces, volumes and protection attributes serve preserve, collect and contain),
 * tags written for many resources in one CreateTags, snapshot look-ups batched. Keyed by the
 * capture's client bundle, so nothing outlives the capture.
 *
 * Instances and volumes are read ahead in windows in plan order (discovery tells the fleet the
 * order): the first instance asked for is read with the next READ_AHEAD_WINDOW - 1, and half-way
 * through a window the next one is read. A read older than READ_AHEAD_MAX_AGE_MS is not used: that
 * instance starts a new window. So each instance is read once (twice at most), a call per window.
 * Interfaces are not read ahead: their groups are what the swap records and release restores, so
 * they are read when the instance's collect step asks, a moment before the swap.
 */
import { batcher, memoized } from '../../src/core/batch.js';
import type { ProviderContext, Step } from '../../src/core/types.js';
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

/** Read-ahead instances and volumes older than this are read again before use. */
export const READ_AHEAD_MAX_AGE_MS = 30_000;
/**
 * Instances per read-ahead call: small enough that the first instance of a window does not wait
 * long for the rest (an emulator takes ~10 ms per instance it describes), large enough that the
 * reads cost a call per hundred instances.
 */
export const READ_AHEAD_WINDOW = 100;
/**
 * How long an interface look-up waits for others before its call goes: short next to a call's
 * latency, so collect is barely delayed and the interfaces are read moments before the swap.
 */
export const ENI_LINGER_MS = 25;
/** The same for the evidence tags (preserve, on the way to containment). */
export const TAG_LINGER_MS = 25;
/** Settle's snapshot polls are 15 s apart and off the containment path: gather them for a second. */
export const SETTLE_LINGER_MS = 1_000;

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

/**
 * The run's shared EC2 reads and writes, built once per run. The read-ahead follows the run's plan:
 * its EC2 targets in plan order (discovery sorted them), whether the plan was made here or read from a file.
 */
export function ec2FleetFor(ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env' | 'incident' | 'run'>): Ec2Fleet {
  return ctx.run.memo('ec2:fleet', () =>
    createFleet(ec2ClientsFor(ctx), ctx.incident, plannedInstances(ctx.run.steps)),
  );
}

/** The instance ids the run's EC2 steps target, in plan order; undefined when it has none (reads go in batches). */
function plannedInstances(steps: readonly Step[]): string[] | undefined {
  const ids = new Set<string>();
  for (const s of steps) if (s.provider === 'ec2' && s.target.startsWith('ec2:i-')) ids.add(s.target.slice(4));
  return ids.size ? [...ids] : undefined;
}

/** One instance's read-ahead: the instance, and its volumes (undefined when that read failed). */
interface Entry {
  at: number;
  instance: Read<OwnedInstance>;
  volumes: Promise<Read<Volume[]> | undefined>;
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

function createFleet(c: Ec2Clients, incident: string, order: string[] | undefined): Ec2Fleet {
  const batch = { maxBatch: MAX_FILTER_VALUES };
  const position = new Map((order ?? []).map((id, i) => [id, i]));
  const ahead = new Map<string, Promise<Entry | undefined>>();
  // When each instance's read-ahead started (kept apart from the promise: windows are chosen at once).
  const started = new Map<string, number>();
  const stale = (id: string) => Date.now() - (started.get(id) ?? -Infinity) > READ_AHEAD_MAX_AGE_MS;
  // Instances collect has read (their reads are done with): never read ahead again.
  const used = new Set<string>();
  // Plan positions below this have had a window started.
  let readUpTo = 0;
  const readWindow = (ids: string[]): void => {
    if (!ids.length) return;
    const at = Date.now();
    const instancesRead = describeInstances(c, { ids }).then((list) => new Map(list.map((x) => [x.InstanceId!, x])));
    const volumesReadAt = new Date().toISOString();
    // Volumes go at once, beside the instances: protect needs only the instance. A failed volume
    // read sends collect to the batched read.
    const volumesRead = describeVolumesOf(c, ids).then(
      (list) => groupBy(list, (v) => (v.Attachments ?? []).flatMap((a) => (a.InstanceId ? [a.InstanceId] : []))),
      () => undefined,
    );
    for (const id of ids) started.set(id, at);
    for (const id of ids)
      ahead.set(
        id,
        instancesRead.then(
          (found) => {
            const instance = found.get(id);
            if (!instance) return undefined;
            return {
              at,
              instance: stamp(instance, new Date(at).toISOString()),
              volumes: volumesRead.then((byInstance) =>
                byInstance ? stamp(byInstance.get(id) ?? [], volumesReadAt) : undefined,
              ),
            };
          },
          // A failed read-ahead (an id gone since planning, a throttle) costs no correctness: the
          // batched reads answer.
          () => undefined,
        ),
      );
  };
  /** Starts a window at plan position `from`: the instances there not yet used and with no fresh read. */
  const windowFrom = (from: number, first?: string): void => {
    const window = first ? [first] : [];
    let i = from;
    for (; order && i < order.length && window.length < READ_AHEAD_WINDOW; i++) {
      const next = order[i]!;
      if (next !== first && !used.has(next) && stale(next)) window.push(next);
    }
    readUpTo = Math.max(readUpTo, i);
    readWindow(window);
  };
  /** The read-ahead of `id`, fresh enough; undefined sends the caller to the batched read. */
  const aheadOf = async (id: string): Promise<Entry | undefined> => {
    const at = position.get(id);
    if (at === undefined) return undefined;
    const current = ahead.get(id);
    if (!current || stale(id)) windowFrom(at + 1, id);
    // Half-way through what has been read, the next window goes: the instances after these find
    // their reads done.
    else if (at + READ_AHEAD_WINDOW / 2 >= readUpTo) windowFrom(readUpTo);
    return ahead.get(id);
  };
  const instances = batcher(async (ids) => {
    const at = new Date().toISOString();
    const found = await describeInstances(c, { ids });
    return new Map(found.map((i) => [i.InstanceId!, stamp(i as Instance, at)]));
  }, batch);
  const enis = batcher(
    async (ids) => {
      const at = new Date().toISOString();
      const byInstance = groupBy(await describeEnisOf(c, ids), (e) =>
        e.Attachment?.InstanceId ? [e.Attachment.InstanceId] : [],
      );
      return new Map(ids.map((id) => [id, stamp(byInstance.get(id) ?? [], at)]));
    },
    { ...batch, lingerMs: ENI_LINGER_MS },
  );
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
    lingerMs: SETTLE_LINGER_MS,
  });

  const pendingTags = new Map<string, { tags: Record<string, string>; waiters: TagWaiter[] }>();
  let tagsInFlight = 0;
  let tagTimer: NodeJS.Timeout | undefined;
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
    instance: memoized(async (id) => {
      const entry = await aheadOf(id);
      if (entry) return entry.instance;
      return (await instances(id)) ?? stamp(undefined, new Date().toISOString());
    }),
    enis: memoized(async (id) => (await enis(id))!),
    volumes: memoized(async (id) => {
      const entry = await aheadOf(id);
      used.add(id);
      ahead.delete(id);
      started.delete(id);
      return (await entry?.volumes) ?? (await volumes(id))!;
    }),
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
        // The first waits a moment for others (one call covers them all); the rest go when one returns.
        if (!tagsInFlight && !tagTimer)
          tagTimer = setTimeout(() => {
            tagTimer = undefined;
            if (!tagsInFlight) flushTags();
          }, TAG_LINGER_MS);
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
