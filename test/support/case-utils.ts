/**
 * The CASE community's validator, `case_validate` from PyPI `case-utils` (0.18.0 bundles CASE
 * 1.5.0; SHACL, offline), installed into the project's cache like moto on first use.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, ensurePythonTool } from '../../src/emulators/moto.js';

const execFileAsync = promisify(execFile);

export const CASE_UTILS_VERSION = '0.18.0';

/** Validate a JSON-LD file against CASE; `conforms` is the validator's verdict, `report` its text. */
export async function caseValidate(file: string): Promise<{ conforms: boolean; report: string }> {
  const bin = await ensurePythonTool({
    venv: join(cacheDir(), `case-utils-${CASE_UTILS_VERSION}`),
    packages: [`case-utils==${CASE_UTILS_VERSION}`],
    bin: 'case_validate',
    what: 'the CASE validator (case-utils)',
  });
  try {
    const { stdout } = await execFileAsync(bin, [file], { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
    return { conforms: /Conforms: True/.test(stdout), report: stdout };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    // Exit 1 with a report: the graph does not conform. Anything else is the validator failing.
    if (e.code === 1 && /Conforms: False/.test(e.stdout ?? '')) return { conforms: false, report: e.stdout ?? '' };
    throw error;
  }
}
