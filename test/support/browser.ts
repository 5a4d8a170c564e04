/**
 * Open an HTML file the way a person would, in Debian's chromium, headless: the DOM after load, the
 * console's messages, and a screenshot. Installed by test/support/install-chromium.sh (from
 * prepare-servers.sh); missing, the tests that need it fail under CI and say so elsewhere.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The browser, when installed. */
export function chromiumPath(): string | undefined {
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

const HEADLESS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars', '--mute-audio'];

/** Console messages chromium logs for a page (`--enable-logging=stderr`): "CONSOLE" lines and refused loads. */
function consoleLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /CONSOLE|Refused to|Failed to load|net::ERR_/.test(l));
}

/** Load `file` and return its DOM after load and what the console said. */
export async function openInBrowser(file: string): Promise<{ dom: string; console: string[] }> {
  const bin = chromiumPath();
  if (!bin) throw new Error('chromium is not installed (bash test/support/install-chromium.sh)');
  const { stdout, stderr } = await execFileAsync(
    bin,
    [...HEADLESS, '--enable-logging=stderr', '--v=0', '--virtual-time-budget=2000', '--dump-dom', `file://${file}`],
    { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { dom: stdout, console: consoleLines(stderr) };
}

/** A screenshot of `file` at `width`×`height` into `png`. */
export async function screenshot(file: string, png: string, width = 1200, height = 2200): Promise<void> {
  const bin = chromiumPath();
  if (!bin) throw new Error('chromium is not installed (bash test/support/install-chromium.sh)');
  await execFileAsync(bin, [...HEADLESS, `--window-size=${width},${height}`, `--screenshot=${png}`, `file://${file}`], {
    timeout: 60_000,
  });
}
