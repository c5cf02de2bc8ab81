// WWW-Authenticate parsing (RFC 7235): one header may carry several challenges, each a scheme
// and comma-separated auth-params with quoted-string values, e.g.
//   Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"

/** One challenge: scheme lowercased, parameter names lowercased, values unquoted. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Parses a WWW-Authenticate value into its challenges; junk is skipped, never thrown on. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const scanner = new Scanner(header);
  while (!scanner.done()) {
    scanner.skip(" \t,");
    const scheme = scanner.token();
    if (!scheme) {
      scanner.advance();
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    readParams(scanner, challenge.params);
  }
  return challenges;
}

/** Reads `name=value` pairs until something that is not one (the next challenge's scheme). */
function readParams(scanner: Scanner, params: Record<string, string>): void {
  for (;;) {
    scanner.skip(" \t,");
    const start = scanner.pos;
    const name = scanner.token();
    scanner.skip(" \t");
    if (!name || !scanner.eat("=")) {
      scanner.pos = start;
      return;
    }
    scanner.skip(" \t");
    params[name.toLowerCase()] = scanner.peek() === '"' ? scanner.quoted() : scanner.token();
  }
}

class Scanner {
  pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string | undefined {
    return this.text[this.pos];
  }
  advance(): void {
    this.pos++;
  }
  eat(char: string): boolean {
    if (this.text[this.pos] !== char) return false;
    this.pos++;
    return true;
  }
  skip(chars: string): void {
    while (!this.done() && chars.includes(this.text[this.pos]!)) this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done() && TCHAR.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** A quoted-string: backslash escapes the next character; an unclosed quote runs to the end. */
  quoted(): string {
    let out = "";
    this.pos++; // opening quote
    while (!this.done()) {
      const c = this.text[this.pos++]!;
      if (c === '"') return out;
      out += c === "\\" && !this.done() ? this.text[this.pos++]! : c;
    }
    return out;
  }
}
