// NATS subject algebra for planning streams (pure). JetStream refuses a stream whose subjects
// overlap each other (nats-server 2.9: `subject "a.*.c" overlaps with "a.b.*"`), even when one
// covers the other, so the stream's subject list must be reduced to pairwise-disjoint subjects.

/** True for a subject a stream or consumer filter accepts: dot-separated, non-empty tokens, no
 * whitespace, `*` a whole token, `>` only as the last token. */
export function isValidSubject(subject: string): boolean {
  if (subject === "" || /\s/.test(subject)) return false;
  const tokens = subject.split(".");
  return tokens.every((token, i) => {
    if (token === "") return false;
    if (token === ">") return i === tokens.length - 1;
    return token === "*" || !/[*>]/.test(token);
  });
}

/** True when every subject matched by `inner` is matched by `outer` (a subject covers itself). */
export function subjectCovers(outer: string, inner: string): boolean {
  const a = outer.split(".");
  const b = inner.split(".");
  for (let i = 0; i < a.length; i++) {
    if (a[i] === ">") return b.length > i;
    if (i >= b.length || b[i] === ">") return false;
    if (a[i] !== "*" && a[i] !== b[i]) return false;
  }
  return a.length === b.length;
}

/** True when some concrete subject matches both. */
export function subjectsOverlap(x: string, y: string): boolean {
  const a = x.split(".");
  const b = y.split(".");
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === ">" || b[i] === ">") return true;
    if (a[i] !== "*" && b[i] !== "*" && a[i] !== b[i]) return false;
  }
  return a.length === b.length;
}

/** The least general subject covering two overlapping subjects: equal tokens kept, others `*`,
 * and `>` from the first position where either has it. */
export function generalizeSubjects(x: string, y: string): string {
  const a = x.split(".");
  const b = y.split(".");
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === ">" || b[i] === ">" || a[i] === undefined || b[i] === undefined) {
      out.push(">");
      break;
    }
    out.push(a[i] === b[i] ? a[i]! : "*");
  }
  return out.join(".");
}

/** Subjects reduced to a pairwise-disjoint, sorted set covering all of them, and any that could not be. */
export interface MergedSubjects {
  subjects: string[];
  /** Subjects left out: covering them together with another would overlap a reserved subject. */
  conflicts: string[];
}

/**
 * Deduplicates, drops subjects covered by another's wildcard, and replaces partially overlapping
 * pairs (`a.*.c`, `a.b.*`) by their generalization (`a.*.*`): a stream may store more than the
 * triggers need, since each consumer filters on its own trigger subject. A generalization that
 * would overlap a reserved subject (the dead-letter space) is refused; the later subject is then
 * reported as a conflict instead.
 */
export function mergeSubjects(subjects: readonly string[], reserved: readonly string[] = []): MergedSubjects {
  const set = [...new Set(subjects)];
  const conflicts: string[] = [];
  for (let pair = findOverlap(set); pair; pair = findOverlap(set)) {
    const [i, j] = pair;
    const [a, b] = [set[i]!, set[j]!];
    if (subjectCovers(a, b)) set.splice(j, 1);
    else if (subjectCovers(b, a)) set.splice(i, 1);
    else {
      const cover = generalizeSubjects(a, b);
      set.splice(j, 1);
      if (reserved.some((r) => subjectsOverlap(r, cover))) conflicts.push(b);
      else set.splice(i, 1, cover);
    }
  }
  return { subjects: set.sort(), conflicts: conflicts.sort() };
}

function findOverlap(subjects: readonly string[]): [number, number] | undefined {
  for (let i = 0; i < subjects.length; i++) {
    for (let j = i + 1; j < subjects.length; j++) {
      if (subjectsOverlap(subjects[i]!, subjects[j]!)) return [i, j];
    }
  }
  return undefined;
}
