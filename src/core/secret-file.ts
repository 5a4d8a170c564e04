/**
 * Secrets handed to child processes through a file readable only by us (never argv, never a
 * logged environment value), in a private directory, removed when the work is done.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SecretFile {
  path: string;
  /** Remove the file and its directory; safe to call twice. */
  remove(): void;
}

/** Write `content` to a fresh 0600 file in a fresh 0700 directory. */
export function writeSecretFile(name: string, content: string): SecretFile {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-secret-'));
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
  return {
    path,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Replace every occurrence of the secret in a text (for error messages from tools). */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}
