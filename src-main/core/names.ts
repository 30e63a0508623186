// Runs in: plain Node (core).
import { type NameKind, nameProblem, nameSentence } from '../shared/names';
import { XrayError } from '../shared/errors';

/** validateName throws a user-facing error when `name` is not a valid name. */
export function validateName(kind: NameKind, name: string): string {
  const problem = nameProblem(name);
  if (problem) throw new XrayError('invalid-argument', nameSentence(kind, name, problem));
  return name;
}
