import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as ts from 'typescript';

function unwrap(node: ts.Expression): ts.Expression {
  while (ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isParenthesizedExpression(node)) node = node.expression;
  return node;
}

/** One line of text from a JSDoc block: what a table cell can hold. */
function jsdocText(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const last = docs[docs.length - 1];
  if (!last) return '';
  return (ts.getTextOfJSDocComment(last.comment) ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * The JSDoc comment above each key of an exported object literal (`export const X = { KEY: … }`),
 * read with the TypeScript parser so the comments that document a config schema are also its
 * table's descriptions. Keys without a comment map to ''. A spread of an object imported from a
 * relative module (`...IdentityConfig` from './identity/identity-config') is followed into that file,
 * so a schema assembled from per-concept fragments documents every key it has.
 */
export function extractKeyDocs(file: string, exportName: string): Map<string, string> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const decl of statement.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || decl.name.text !== exportName || !decl.initializer) continue;
      const init = unwrap(decl.initializer);
      if (!ts.isObjectLiteralExpression(init)) throw new Error(`${file}: ${exportName} is not an object literal`);
      const docs = new Map<string, string>();
      for (const prop of init.properties) {
        if (ts.isSpreadAssignment(prop) && ts.isIdentifier(prop.expression)) {
          const from = importedFrom(source, prop.expression.text);
          if (from) for (const [k, v] of extractKeyDocs(resolve(dirname(file), `${from}.ts`), prop.expression.text)) docs.set(k, v);
          continue;
        }
        if (!ts.isPropertyAssignment(prop) && !ts.isShorthandPropertyAssignment(prop)) continue;
        const name = ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name) ? prop.name.text : prop.name.getText(source);
        docs.set(name, jsdocText(prop));
      }
      return docs;
    }
  }
  throw new Error(`${file}: no exported object ${exportName}`);
}

/** The relative module a name is imported from in `source`, or undefined (a package or not imported). */
function importedFrom(source: ts.SourceFile, name: string): string | undefined {
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const bindings = statement.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    if (bindings.elements.some((e) => e.name.text === name) && statement.moduleSpecifier.text.startsWith('.')) return statement.moduleSpecifier.text;
  }
  return undefined;
}
