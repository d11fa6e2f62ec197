// The README's configuration table, generated from src/config/config.ts: each variable's meaning is
// its doc comment, its default the comment's @default or else the schema's own default. Usage:
//   npm run docs:config            rewrite the table in README.md (after npm run build)
//   npm run docs:config -- --check exit 1 when README.md differs from the schema
// test/unit/readme-config.test.ts runs the same check against the sources.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const START = '<!-- config-table:start (generated from src/config/config.ts by npm run docs:config; do not edit) -->';
export const END = '<!-- config-table:end -->';

/** Doc comment of every property of the `configFields` object literal: { NAME: { text, default? } }. */
export function docComments(source) {
  const file = ts.createSourceFile('config.ts', source, ts.ScriptTarget.ES2022, true);
  const docs = {};
  const visit = (node) => {
    if (ts.isVariableDeclaration(node) && node.name.getText() === 'configFields' && node.initializer && ts.isCallExpression(node.initializer)) {
      const literal = node.initializer.arguments[0];
      for (const property of literal.properties) {
        const jsDoc = property.jsDoc?.at(-1);
        const text = ts.getTextOfJSDocComment(jsDoc?.comment) ?? '';
        const tag = jsDoc?.tags?.find((t) => t.tagName.text === 'default');
        docs[property.name.getText()] = {
          // "PORT: TCP port ..." -> "TCP port ..."
          text: text.replace(/^\s*[A-Z0-9_]+:\s*/, '').replace(/\s+/g, ' ').trim(),
          default: tag ? ts.getTextOfJSDocComment(tag.comment)?.trim() : undefined,
        };
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return docs;
}

/** The default a user would type, found inside the field's schema (before any transform). */
function schemaDefault(field) {
  for (let t = field; t; ) {
    const def = t.def ?? t._zod?.def;
    if (def.type === 'default') return def.defaultValue;
    if (def.type === 'optional') return undefined;
    t = def.type === 'pipe' ? def.in : def.innerType;
  }
  return undefined;
}

/** The values an enum field takes, wherever it sits in the field's schema. */
function enumValues(field) {
  for (let t = field; t; ) {
    const def = t.def ?? t._zod?.def;
    if (def.type === 'enum') return Object.values(def.entries);
    t = def.type === 'pipe' ? def.in : def.innerType;
  }
  return undefined;
}

function formatDefault(value) {
  if (value === undefined || value === '') return 'unset';
  return `\`${String(value)}\``;
}

const cell = (s) => s.replace(/\|/g, '\\|');

/** The markdown table for `fields` (configFields.shape) documented by `source` (config.ts's text). */
export function configTable(fields, source) {
  const docs = docComments(source);
  const rows = Object.entries(fields).map(([name, field]) => {
    const doc = docs[name];
    if (!doc || !doc.text) throw new Error(`${name} has no doc comment in src/config/config.ts`);
    const values = enumValues(field);
    const meaning = values ? `${doc.text} One of ${values.map((v) => `\`${v}\``).join(', ')}.` : doc.text;
    return `| \`${name}\` | ${cell(doc.default ?? formatDefault(schemaDefault(field)))} | ${cell(meaning)} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** README text with the table between the markers replaced. */
export function withTable(readme, table) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} block`);
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { configFields } = await import(path.join(repo, 'dist/config/config.js'));
  const table = configTable(configFields.shape, readFileSync(path.join(repo, 'src/config/config.ts'), 'utf8'));
  const readmePath = path.join(repo, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const next = withTable(readme, table);
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md configuration table differs from src/config/config.ts: run npm run docs:config');
      process.exit(1);
    }
  } else if (next !== readme) {
    writeFileSync(readmePath, next);
    console.log('README.md configuration table updated');
  }
}
