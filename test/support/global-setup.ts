/**
 * Starts the real servers the tests run against, once per test run. A server that cannot start
 * fails the run: tiers never skip silently.
 */
import type { TestProject } from 'vitest/node';
import { startMoto, type MotoServer } from '../../src/emulators/moto.js';

let moto: MotoServer | undefined;

export default async function setup(project: TestProject) {
  moto = await startMoto({ log: (l) => console.error(`[test setup] ${l}`) });
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await moto?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}
