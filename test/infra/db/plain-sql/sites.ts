import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Where src/ writes plain SQL (ADR 0005), found in the source's syntax tree:
 * - an object's `sql` property (a Statement, queued or read in a batch);
 * - a call of `.query(...)` on anything (`manager.query`, `runner.query`, ...);
 * - `database.write(...)` and `database.insert(...)` (Database's plain writes);
 * - a constant declared as a `StatusPart` (a factor's columns in the status read).
 * Each is named by the place that writes it: `Class.method`, a function, or a
 * top-level constant. Migrations and the plumbing that sends statements are not
 * statements of a table.
 */
export interface Site {
  /** `UserRepository.lock`, `TOTP_STATUS`. */
  name: string;
  /** `src/users/user.repository.ts:80`. */
  at: string;
}

const ROOT = join(__dirname, '..', '..', '..', '..');
const SRC = join(ROOT, 'src');

/** The plumbing that runs statements for the repositories, or migrations: no statements of their own. */
const NOT_STATEMENTS = [/\/migrations\//, /^src\/infra\/db\/(database|batched-transaction|migrate)\.ts$/];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The named place a node is written in: the class member, function or top-level constant around it. */
function placeOf(node: ts.Node): string | undefined {
  for (let at: ts.Node | undefined = node; at; at = at.parent) {
    if (
      (ts.isMethodDeclaration(at) || ts.isGetAccessorDeclaration(at) || ts.isPropertyDeclaration(at)) &&
      ts.isClassDeclaration(at.parent)
    ) {
      return `${at.parent.name?.text ?? '(class)'}.${at.name.getText()}`;
    }
    if (ts.isConstructorDeclaration(at) && ts.isClassDeclaration(at.parent))
      return `${at.parent.name?.text}.constructor`;
    if (ts.isFunctionDeclaration(at) && at.name && ts.isSourceFile(at.parent)) return at.name.text;
    if (ts.isVariableDeclaration(at) && ts.isIdentifier(at.name) && ts.isSourceFile(at.parent.parent.parent)) {
      return at.name.text;
    }
  }
  return undefined;
}

function isStatement(node: ts.Node): boolean {
  // { sql: ... }
  if (ts.isPropertyAssignment(node) && node.name.getText() === 'sql') return true;
  if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
    const { name, expression } = node.expression;
    if (name.text === 'query') return true;
    if ((name.text === 'write' || name.text === 'insert') && /(^|\.)database$/.test(expression.getText())) return true;
  }
  // export const TOTP_STATUS: StatusPart = { select: ..., join: ... }
  return ts.isVariableDeclaration(node) && node.type?.getText() === 'StatusPart';
}

/** Every place in src/ that writes plain SQL, each with where its statements are. */
export function plainSqlSites(): Map<string, Site[]> {
  const sites = new Map<string, Site[]>();
  for (const path of filesUnder(SRC)) {
    const file = relative(ROOT, path);
    if (NOT_STATEMENTS.some((pattern) => pattern.test(file))) continue;
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (isStatement(node)) {
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        const name = placeOf(node) ?? `(top level of ${file})`;
        sites.set(name, [...(sites.get(name) ?? []), { name, at: `${file}:${line}` }]);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return sites;
}
