/** The store contract suite (test/support/store-contract.ts) against the stores that need no server. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore } from '../../providers/fs-store/index.js';
import { memoryStore } from '../support/memory-store.js';
import { storeContract } from '../support/store-contract.js';

storeContract('fs-store', async () => ({
  store: createFsStore(join(mkdtempSync(join(tmpdir(), 'hf-contract-')), 'es')),
  versions: false,
}));
storeContract('the in-memory test store', async () => ({ store: memoryStore(), versions: false }));
