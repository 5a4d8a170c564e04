/**
 * Starts the real servers the integration and CLI tiers run against (the unit tier has none). A
 * server that cannot start fails the run: tiers never skip silently.
 */
import type { TestProject } from 'vitest/node';
import { startMoto, type MotoServer } from '../../src/emulators/moto.js';

/**
 * Both server tiers list this file, and vitest runs a project's global setup once per project in
 * the one main process: a run of both tiers shares one moto (as one run did before the tiers),
 * started by the first and stopped by the last.
 */
interface SharedMoto {
  server: Promise<MotoServer>;
  users: number;
}
const SHARED = Symbol.for('holdfast.test.moto');
const registry = globalThis as typeof globalThis & { [SHARED]?: SharedMoto };

export default async function setup(project: TestProject) {
  const shared = (registry[SHARED] ??= {
    server: startMoto({ log: (l) => console.error(`[test setup] ${l}`) }),
    users: 0,
  });
  shared.users++;
  const moto = await shared.server;
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    if (--shared.users > 0) return;
    delete registry[SHARED];
    await moto.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}
