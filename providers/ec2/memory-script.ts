/**
 * Pure: the shell script SSM runs on the host for the memory step. It fetches the pinned AVML by a
 * presigned GET, refuses to run it unless its SHA-256 matches, acquires memory to a work directory
 * on disk (not /tmp, often memory-backed), uploads through presigned PUTs (parts for large images)
 * and writes a receipt last. No AWS credentials reach the host; presigned URLs go to curl on its
 * standard input (a config file), never on a command line other processes can read.
 */

/** What the script needs: URLs, the signed headers of single PUTs, and the pinned hash. */
export interface MemoryScriptInput {
  incident: string;
  instanceId: string;
  avmlUrl: string;
  avmlSha256: string;
  /** One URL: a single PutObject; more: UploadPart URLs 1…n of `partMiB` MiB each. */
  imageUrls: string[];
  imageHeaders: Record<string, string>;
  partMiB: number;
  receiptUrl: string;
  receiptHeaders: Record<string, string>;
}

/** Exit codes the host reports (SSM shows them; advisory). */
export const MEMORY_EXIT = { avmlHash: 3, acquire: 4, upload: 5, setup: 10, tools: 11, fetch: 12 } as const;

const SAFE_URL = /^https?:\/\/[^\s"'\\]+$/;
const SAFE_HEADER = /^[A-Za-z0-9-]+: [^\r\n"\\]*$/;

/**
 * `command` with a curl config on standard input (a here-document), so the URL and signed headers
 * stay off the command line; `orElse` runs when curl fails.
 */
function curlWith(command: string, url: string, headers: Record<string, string>, orElse = ''): string {
  if (!SAFE_URL.test(url)) throw new Error('presigned URL with characters a curl config cannot carry');
  const lines = [`url = "${url}"`];
  for (const [k, v] of Object.entries(headers)) {
    const h = `${k}: ${v}`;
    if (!SAFE_HEADER.test(h)) throw new Error(`header ${k} cannot be written to a curl config`);
    lines.push(`header = "${h}"`);
  }
  return `${command} -K - <<'HOLDFAST_CURL'${orElse ? ` || ${orElse}` : ''}\n${lines.join('\n')}\nHOLDFAST_CURL`;
}

/** The script, for AWS-RunShellScript (POSIX sh; needs curl, sha256sum, dd). */
export function memoryScript(input: MemoryScriptInput): string {
  if (!/^[0-9a-f]{64}$/.test(input.avmlSha256)) throw new Error('AVML hash is not hex SHA-256');
  const put = `curl -fsS --retry 3 --retry-all-errors -o /dev/null`;
  const partBytes = input.partMiB * 1024 * 1024;
  const single = input.imageUrls.length === 1;
  const upload = single
    ? [
        `[ "$size" -le ${partBytes} ] || fail ${MEMORY_EXIT.upload} "image of $size bytes is larger than the ${partBytes} bytes presigned for it"`,
        curlWith(
          `${put} -T "$work/image.lime"`,
          input.imageUrls[0]!,
          input.imageHeaders,
          `fail ${MEMORY_EXIT.upload} 'image upload failed'`,
        ),
      ]
    : [
        `[ "$size" -le ${partBytes * input.imageUrls.length} ] || fail ${MEMORY_EXIT.upload} "image of $size bytes is larger than the ${input.imageUrls.length} parts presigned for it"`,
        // One function per part (a here-document inside a case arm trips dash's parser).
        ...input.imageUrls.map((u, i) => `upload_part_${i + 1}() {\n${curlWith(`${put} -T "$work/part"`, u, {})}\n}`),
        'part=1',
        `while [ $(( (part - 1) * ${partBytes} )) -lt "$size" ]; do`,
        `  dd if="$work/image.lime" of="$work/part" bs=1048576 skip=$(( (part - 1) * ${input.partMiB} )) count=${input.partMiB} 2>/dev/null || fail ${MEMORY_EXIT.upload} "could not cut part $part"`,
        `  "upload_part_$part" || fail ${MEMORY_EXIT.upload} "upload of part $part failed"`,
        '  part=$((part + 1))',
        'done',
        'rm -f "$work/part"',
      ];
  return [
    `# holdfast ${input.incident}: memory of ${input.instanceId} with AVML (sha256 ${input.avmlSha256})`,
    'set -u',
    'umask 077',
    `fail() { echo "holdfast: $2" >&2; exit "$1"; }`,
    `for tool in curl sha256sum dd; do command -v "$tool" >/dev/null 2>&1 || fail ${MEMORY_EXIT.tools} "$tool is not installed"; done`,
    `work=$(mktemp -d /var/tmp/holdfast-memory.XXXXXX) || fail ${MEMORY_EXIT.setup} 'cannot make a work directory in /var/tmp'`,
    // Only holdfast's own work files on the host: the image is in the store by then, or failed.
    `trap 'rm -rf "$work"' EXIT`,
    curlWith(
      `curl -fsS --retry 3 -o "$work/avml"`,
      input.avmlUrl,
      {},
      `fail ${MEMORY_EXIT.fetch} 'could not fetch AVML'`,
    ),
    `echo "${input.avmlSha256}  $work/avml" | sha256sum -c --status - || fail ${MEMORY_EXIT.avmlHash} 'AVML does not have the pinned SHA-256: refusing to run it'`,
    'chmod 700 "$work/avml"',
    '"$work/avml" acquire --compress "$work/image.lime"',
    'code=$?',
    `[ "$code" -eq 0 ] || fail ${MEMORY_EXIT.acquire} "avml acquire exited $code"`,
    `size=$(wc -c < "$work/image.lime" | tr -d ' ')`,
    `sum=$(sha256sum "$work/image.lime" | cut -d' ' -f1)`,
    ...upload,
    `printf '{"size":%s,"sha256":"%s","avmlExit":%s}' "$size" "$sum" "$code" > "$work/receipt.json"`,
    curlWith(
      `${put} -T "$work/receipt.json"`,
      input.receiptUrl,
      input.receiptHeaders,
      `fail ${MEMORY_EXIT.upload} 'receipt upload failed'`,
    ),
    `echo "holdfast: memory image of $size bytes uploaded (sha256 $sum)"`,
  ].join('\n');
}
