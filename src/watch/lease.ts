/**
 * Per-incident leases with a generation number (a fencing token), so that several replicas capture
 * each incident once: a replica works on an incident only while it holds the incident's lease, the
 * generation is journaled at the run's start, and once the lease is lost (not renewed in time, taken
 * over) the run's journal refuses every further line (ExecuteOptions.fence). A replica that dies
 * stops renewing; after the lease's duration another takes it with the next generation and resumes
 * from the journal.
 */
import { InternalError } from '../core/errors.js';
import type { IncidentFence } from '../engine/execute.js';
import type { LeaseApi, StoredLease } from './client.js';

/** How long a lease lasts without renewal; renewed every third of it. */
export const DEFAULT_LEASE_SECONDS = 15;

/** A lease lost to another holder (or never renewed in time): the run holding it must stop writing. */
export class LeaseLostError extends InternalError {}

/** A lease held by this replica. */
export interface HeldLease extends IncidentFence {
  name: string;
  /** Whether this generation took the lease over from another holder (not a free or new lease). */
  takeover: boolean;
  /** Renew until released; `onLost` is told once if it is lost. */
  keepAlive(onLost: (error: LeaseLostError) => void): void;
  /** Give it back (it stays at its generation; the next holder takes the next one). */
  release(): Promise<void>;
}

/** The name of an incident's lease (a Kubernetes object name: lower case). */
export function leaseName(incident: string): string {
  return `holdfast-${incident.toLowerCase()}`;
}

/** Leases for incidents, held as `holder`, over one backend. */
export class IncidentLeases {
  constructor(
    readonly api: LeaseApi,
    readonly holder: string,
    readonly durationSeconds = DEFAULT_LEASE_SECONDS,
    readonly now: () => number = Date.now,
  ) {}

  /** Take the incident's lease, or undefined when another live holder has it (or won the race). */
  async acquire(incident: string): Promise<HeldLease | undefined> {
    const name = leaseName(incident);
    const current = await this.api.read(name);
    const at = this.now();
    if (!current) {
      const fresh = { holder: this.holder, generation: 1, renewedAt: at, durationSeconds: this.durationSeconds };
      return (await this.api.create(name, fresh)) ? this.#held(name, fresh.generation, false) : undefined;
    }
    const live = current.holder !== '' && current.renewedAt + current.durationSeconds * 1000 > at;
    if (live && current.holder !== this.holder) return undefined;
    // Free, expired or (after a restart of this replica) our own: a new generation either way.
    const next: StoredLease = {
      holder: this.holder,
      generation: current.generation + 1,
      renewedAt: at,
      durationSeconds: this.durationSeconds,
      version: current.version,
    };
    if (!(await this.api.replace(name, next))) return undefined;
    return this.#held(name, next.generation, current.holder !== '' && current.holder !== this.holder);
  }

  #held(name: string, generation: number, takeover: boolean): HeldLease {
    let lost: LeaseLostError | undefined;
    let released = false;
    let timer: NodeJS.Timeout | undefined;
    // Held until the last successful renewal's term ends, judged on this replica's clock.
    let heldUntil = this.now() + this.durationSeconds * 1000;
    const renew = async (): Promise<void> => {
      const current = await this.api.read(name);
      if (!current || current.holder !== this.holder || current.generation !== generation)
        throw new LeaseLostError(`the lease ${name} (generation ${generation}) was taken over`);
      const at = this.now();
      if (!(await this.api.replace(name, { ...current, renewedAt: at })))
        throw new LeaseLostError(`the lease ${name} (generation ${generation}) changed while renewing`);
      heldUntil = at + this.durationSeconds * 1000;
    };
    return {
      name,
      holder: this.holder,
      generation,
      takeover,
      assertHeld: () => {
        if (released) throw new LeaseLostError(`the lease ${name} was released`);
        if (lost) throw lost;
        if (this.now() >= heldUntil) {
          lost = new LeaseLostError(`the lease ${name} (generation ${generation}) expired before it was renewed`);
          throw lost;
        }
      },
      keepAlive: (onLost) => {
        if (lost) {
          const already = lost;
          queueMicrotask(() => onLost(already));
          return;
        }
        const tick = () => {
          if (released || lost) return;
          renew().then(
            () => {
              timer = setTimeout(tick, (this.durationSeconds * 1000) / 3);
              timer.unref();
            },
            (error: unknown) => {
              lost =
                error instanceof LeaseLostError
                  ? error
                  : new LeaseLostError(`renewing ${name} failed: ${String(error)}`);
              onLost(lost);
            },
          );
        };
        timer = setTimeout(tick, (this.durationSeconds * 1000) / 3);
        timer.unref();
      },
      release: async () => {
        released = true;
        if (timer) clearTimeout(timer);
        if (lost) return;
        const current = await this.api.read(name);
        if (current && current.holder === this.holder && current.generation === generation)
          await this.api.replace(name, { ...current, holder: '', renewedAt: this.now() });
      },
    };
  }
}
