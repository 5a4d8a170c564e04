/** Drill extras that need local servers beyond the AWS emulator (databases, Kubernetes). */
import type { DrillExtension } from './run-drill.js';

/** Registered explicitly, like providers. */
export const drillExtensions: readonly DrillExtension[] = [];
