/**
 * The incident id rule, in core because every layer that takes an incident id from a caller
 * (case, release, verify) checks it before using it in a path, a key or a tag.
 */
import { BadInputError, valueProblem, type InputProblem } from './errors.js';

/** Incident ids become tags, S3 keys and RDS identifiers, so they take the strictest of those charsets. */
export const INCIDENT_ID_PATTERN = /^[A-Za-z][A-Za-z0-9-]{2,39}$/;
export const MAX_INCIDENT_ID_LENGTH = 40;

/** Problems with an incident id (`field` names where it came from), or empty. */
export function incidentProblems(incident: unknown, field = 'incident'): InputProblem[] {
  if (incident === undefined || incident === '')
    return [{ field, message: 'is required (an incident id, e.g. IR-2026-0042)', continues: true }];
  if (typeof incident !== 'string') return [{ field, message: 'must be a string', continues: true }];
  if (incident.length > MAX_INCIDENT_ID_LENGTH)
    return [valueProblem(field, incident, `is longer than ${MAX_INCIDENT_ID_LENGTH} characters`)];
  if (!INCIDENT_ID_PATTERN.test(incident) || incident.includes('--') || incident.endsWith('-')) {
    return [
      valueProblem(
        field,
        incident,
        'must start with a letter and use only letters, digits and single hyphens (it becomes tags, S3 keys and snapshot ids)',
      ),
    ];
  }
  return [];
}

/** Throw BadInputError listing every problem when the incident id is unusable. */
export function assertIncidentId(incident: unknown, field = 'incident'): string {
  const problems = incidentProblems(incident, field);
  if (problems.length) throw new BadInputError(problems);
  return incident as string;
}
