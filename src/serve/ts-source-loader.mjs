// Lets a query process of the sandbox pool run from the TypeScript sources (under vitest, where
// no compiled child exists): `node --import <this file> src/serve/sandbox-child.ts`. It resolves
// a relative `./x.js` to `./x.ts` when only the source exists, and strips types with the
// TypeScript compiler (a dev dependency), keeping the output in node_modules/.cache so that the
// next process (the pool replaces killed ones) starts without loading the compiler. The build
// never uses it: dist/ runs compiled files.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { register } from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

let ts;
const cacheDir = new URL('../../node_modules/.cache/tributary-ts-source/', import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (!/^\.\.?\//.test(specifier) || !specifier.endsWith('.js')) throw err;
    return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const file = new URL(url);
  const { mtimeMs, size } = await stat(file);
  const key = createHash('sha256').update(`${url}\n${mtimeMs}\n${size}`).digest('hex');
  const cached = new URL(`${key}.js`, cacheDir);
  try {
    return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
  } catch {
    // not transpiled yet
  }
  ts ??= (await import('typescript')).default;
  const source = await readFile(file, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: new URL(url).pathname,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      sourceMap: false,
    },
  });
  await mkdir(cacheDir, { recursive: true });
  const temp = new URL(`${key}.${process.pid}.tmp`, cacheDir);
  await writeFile(temp, outputText);
  await rename(temp, cached);
  return { format: 'module', source: outputText, shortCircuit: true };
}
