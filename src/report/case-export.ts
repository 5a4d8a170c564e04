/**
 * The sealed manifest as CASE 1.x / UCO JSON-LD (pure), for examiners' tools: the investigation,
 * the tool and its version, one investigative action per step with its times and performer, each
 * artifact as a provenance record holding the evidence object with its SHA-256, and the relations
 * between evidence and the resource it came from. https://caseontology.org
 */
import { createHash } from 'node:crypto';
import type { ArtifactRecord, JsonObject } from '../core/types.js';
import type { CaptureEvent } from '../core/events.js';
import type { Manifest } from '../evidence/manifest.js';
import { foldRoles } from '../evidence/roles.js';

/** The CASE release the export is written for (case-utils 0.18.0 validates against it). */
export const CASE_VERSION = '1.5.0';

const CONTEXT = {
  kb: 'urn:holdfast:kb:',
  'case-investigation': 'https://ontology.caseontology.org/case/investigation/',
  'uco-action': 'https://ontology.unifiedcyberontology.org/uco/action/',
  'uco-core': 'https://ontology.unifiedcyberontology.org/uco/core/',
  'uco-identity': 'https://ontology.unifiedcyberontology.org/uco/identity/',
  'uco-observable': 'https://ontology.unifiedcyberontology.org/uco/observable/',
  'uco-tool': 'https://ontology.unifiedcyberontology.org/uco/tool/',
  'uco-types': 'https://ontology.unifiedcyberontology.org/uco/types/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
};

type Node = { '@id': string; '@type': string } & Record<string, unknown>;

/** A stable node id: the same incident and key give the same IRI in every export. */
function nodeId(incident: string, kind: string, key: string): string {
  const h = createHash('sha256').update(`${incident}\u0000${kind}\u0000${key}`).digest('hex');
  return `kb:${kind}-${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const ref = (id: string) => ({ '@id': id });
const dateTime = (at: string) => ({ '@type': 'xsd:dateTime', '@value': at });
const integer = (n: number) => ({ '@type': 'xsd:integer', '@value': n });

/** Who ran the capture, in words (OS user at host; the cloud identity). */
function operatorName(operator: JsonObject): string {
  const who = [operator.osUser ? `${String(operator.osUser)}@${String(operator.host ?? '?')}` : '', operator.callerArn]
    .filter(Boolean)
    .map(String);
  return who.join(' as ') || 'unknown operator';
}

/** The artifact's SHA-256: of its bytes, or of the platform's image when capture read it (--hash-snapshots). */
function artifactSha256(a: ArtifactRecord): string | undefined {
  return a.sha256 ?? (typeof a.method.imageSha256 === 'string' ? a.method.imageSha256 : undefined);
}

/** The manifest (and the journal's roles) as a CASE JSON-LD document. */
export function manifestToCase(manifest: Manifest, events: readonly CaptureEvent[] = []): Record<string, unknown> {
  const incident = manifest.incident;
  const id = (kind: string, key: string) => nodeId(incident, kind, key);
  const graph: Node[] = [];
  const toolId = id('Tool', `${String(manifest.tool.name ?? 'holdfast')}@${String(manifest.tool.version ?? '')}`);
  graph.push({
    '@id': toolId,
    '@type': 'uco-tool:Tool',
    'uco-core:name': String(manifest.tool.name ?? 'holdfast'),
    'uco-tool:version': String(manifest.tool.version ?? 'unknown'),
    'uco-tool:toolType': 'incident response evidence capture',
  });
  const operatorId = id('Identity', operatorName(manifest.operator));
  graph.push({
    '@id': operatorId,
    '@type': 'uco-identity:Identity',
    'uco-core:name': operatorName(manifest.operator),
  });
  const roles = foldRoles(events);
  const people = [
    ...(roles.commander ? [{ name: roles.commander, role: 'Incident Commander' }] : []),
    ...roles.responders.map((name) => ({ name, role: 'responder' })),
  ].map((p) => {
    const personId = id('Person', p.name);
    graph.push({
      '@id': personId,
      '@type': 'uco-identity:Person',
      'uco-core:name': p.name,
      'uco-core:description': p.role,
    });
    return personId;
  });

  // The resources evidence came from: one observable per source resource (instance, database, pod).
  const sources = new Map<string, string>();
  const sourceOf = (a: ArtifactRecord) => {
    const key =
      ['instanceId', 'dbInstanceIdentifier', 'dbClusterIdentifier', 'pod', 'url', 'name']
        .map((k) => a.source[k])
        .find((v) => typeof v === 'string') ?? JSON.stringify(a.source);
    const name = String(key);
    let sid = sources.get(name);
    if (!sid) {
      sid = id('ObservableObject', name);
      sources.set(name, sid);
      graph.push({ '@id': sid, '@type': 'uco-observable:ObservableObject', 'uco-core:name': name });
    }
    return sid;
  };

  const evidenceOfStep = new Map<string, string[]>();
  const records: string[] = [];
  for (const a of manifest.artifacts) {
    const objectId = id(a.sha256 ? 'File' : 'ObservableObject', a.id);
    const sha256 = artifactSha256(a);
    const facets: Node[] = [];
    const fileName = a.id.split('/').at(-1) ?? a.id;
    if (a.sha256)
      facets.push({
        '@id': id('FileFacet', a.id),
        '@type': 'uco-observable:FileFacet',
        'uco-observable:fileName': fileName,
        ...(typeof a.location.key === 'string' ? { 'uco-observable:filePath': a.location.key } : {}),
        ...(a.size !== undefined ? { 'uco-observable:sizeInBytes': integer(a.size) } : {}),
      });
    if (sha256)
      facets.push({
        '@id': id('ContentDataFacet', a.id),
        '@type': 'uco-observable:ContentDataFacet',
        'uco-observable:hash': [
          {
            '@id': id('Hash', a.id),
            '@type': 'uco-types:Hash',
            'uco-types:hashMethod': 'SHA256',
            'uco-types:hashValue': { '@type': 'xsd:hexBinary', '@value': sha256.toUpperCase() },
          },
        ],
      });
    graph.push({
      '@id': objectId,
      '@type': a.sha256 ? 'uco-observable:File' : 'uco-observable:ObservableObject',
      'uco-core:name': a.id,
      'uco-core:description': `${a.type} (${Object.entries(a.location)
        .filter(([, v]) => typeof v === 'string')
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join(', ')})`,
      ...(facets.length ? { 'uco-core:hasFacet': facets } : {}),
    });
    const recordId = id('ProvenanceRecord', a.id);
    graph.push({
      '@id': recordId,
      '@type': 'case-investigation:ProvenanceRecord',
      'case-investigation:exhibitNumber': a.id,
      'uco-core:description': `${a.type} acquired ${a.acquiredAt}${sha256 ? '' : '; held by the platform, no hash of its bytes'}`,
      'uco-core:object': [ref(objectId)],
    });
    records.push(recordId);
    const list = evidenceOfStep.get(a.stepId) ?? [];
    list.push(recordId, objectId);
    evidenceOfStep.set(a.stepId, list);
    graph.push({
      '@id': id('Relationship', a.id),
      '@type': 'uco-core:Relationship',
      'uco-core:source': [ref(objectId)],
      'uco-core:target': ref(sourceOf(a)),
      'uco-core:kindOfRelationship': a.sha256 ? 'Extracted_From' : 'Derived_From',
      'uco-core:isDirectional': true,
    });
  }

  // One investigative action per step, timed from the journal; the step's evidence is its result.
  const timesOf = new Map<string, { start?: string; end?: string }>();
  for (const e of events) {
    if (!e.stepId) continue;
    const t = timesOf.get(e.stepId) ?? {};
    if (e.type === 'step.started') t.start ??= e.at;
    if (e.type === 'step.done' || e.type === 'step.failed' || e.type === 'step.skipped') t.end = e.at;
    timesOf.set(e.stepId, t);
  }
  const actions: string[] = [];
  for (const step of manifest.steps) {
    const actionId = id('InvestigativeAction', step.id);
    const t = timesOf.get(step.id) ?? {};
    const results = evidenceOfStep.get(step.id) ?? [];
    graph.push({
      '@id': actionId,
      '@type': 'case-investigation:InvestigativeAction',
      'uco-core:name': `${step.phase}: ${step.title}`,
      'uco-core:description': `${step.id} (${step.status})`,
      ...(t.start ? { 'uco-action:startTime': dateTime(t.start) } : {}),
      ...(t.end ? { 'uco-action:endTime': dateTime(t.end) } : {}),
      'uco-action:performer': ref(operatorId),
      'uco-action:instrument': ref(toolId),
      ...(results.length ? { 'uco-action:result': results.map(ref) } : {}),
    });
    actions.push(actionId);
  }

  graph.unshift({
    '@id': id('Investigation', incident),
    '@type': 'case-investigation:Investigation',
    'uco-core:name': incident,
    'case-investigation:focus': 'incident response: preserve, collect and contain before change',
    'uco-core:description': `capture ${manifest.captureId} (${manifest.status}), sealed ${manifest.endedAt}; manifest journal head ${manifest.journal.head}`,
    'uco-core:object': [...people, ...actions, ...records].map(ref),
  });
  return { '@context': CONTEXT, '@graph': graph };
}
