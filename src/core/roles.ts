/** The people an incident names (Incident Commander, responders): checked like any other input. */

/** Longest name accepted for a person: a name, a handle or "Name <email>", not a paragraph. */
export const MAX_PERSON_NAME_LENGTH = 120;

/** Why `text` cannot stand as a person's name in a journal and a chat message, or undefined. */
export function personNameProblem(text: string): string | undefined {
  if (!text.trim()) return 'expected a name, got nothing';
  if (text.length > MAX_PERSON_NAME_LENGTH) return `a name of at most ${MAX_PERSON_NAME_LENGTH} characters`;
  // Control characters would let a name rewrite a terminal or a chat message around it.
  if ([...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return 'a name without control characters (newlines, escapes)';
  return undefined;
}
