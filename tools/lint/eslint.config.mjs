/**
 * ESLint for holdfast (loaded through the root eslint.config.mjs). It lives in the tools/lint
 * workspace because typescript-eslint parses with the TypeScript JS API, which TypeScript 7 no longer
 * has: this workspace carries a TypeScript 6.0 for the linter alone, while `tsc` stays TypeScript 7.
 * Linting is syntactic (no type information), so the two compilers never have to agree on a program.
 */
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every SDK whose calls must go through a client.ts (a provider's, the AWS kit's, the drill's): guarded, injectable, policy-checked. */
const SDKS = ['@aws-sdk/*', '@smithy/*', '@kubernetes/client-node', '@kubernetes/client-node/*'];
const SDK_PATTERN = {
  group: SDKS,
  message:
    "Only a client.ts imports an SDK (a provider's, src/aws's or src/drill's): add the call there and pass plain data (docs/layout.md).",
};

/** Folders of src/ (and providers/) in the order of docs/layout.md's import rule, top to bottom. */
const LAYER = (name) => `(^|/)${name}/`;
const below = (from, ...forbidden) => ({
  regex: `(${forbidden.map(LAYER).join('|')})`,
  message: `${from} must not import ${forbidden.join(', ')}: one import direction, upper layers over lower (docs/layout.md).`,
});

/** One no-restricted-imports per file: ESLint replaces, not merges, a rule set twice for a file. */
function restrict(...patterns) {
  return { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] };
}

export default defineConfig(
  {
    ignores: ['dist/**', 'node_modules/**', 'tools/lint/node_modules/**', 'coverage/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `x as T` only, never `<T>x`; an object literal is checked with `satisfies`, not asserted.
      '@typescript-eslint/consistent-type-assertions': [
        'error',
        { assertionStyle: 'as', objectLiteralTypeAssertions: 'never' },
      ],
      // `x as unknown as T` silences the checker entirely; narrow instead (style habit 14).
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSAsExpression > TSAsExpression.expression > TSUnknownKeyword.typeAnnotation',
          message: '`as unknown as` hides a type error: narrow, or type the value where it is made.',
        },
      ],
      // core's Clients starts empty on purpose: each provider adds its own entry by declaration merging.
      '@typescript-eslint/no-empty-object-type': ['error', { allowWithName: '^Clients$' }],
      // A `let` read by a closure before its one assignment (an early-return report) stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // tsc's noUnusedLocals already reports these, with the same names.
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },

  // The import direction of docs/layout.md, and the SDK rule, per layer.
  { files: ['src/**/*.ts', 'providers/**/*.ts'], rules: restrict(SDK_PATTERN) },
  {
    files: ['src/core/**/*.ts'],
    rules: restrict(
      SDK_PATTERN,
      below('core/', 'evidence', 'aws', 'engine', 'report', 'cli', 'drill', 'watch', 'emulators', 'providers'),
    ),
  },
  {
    files: ['src/evidence/**/*.ts'],
    rules: restrict(
      SDK_PATTERN,
      below('evidence/', 'aws', 'engine', 'report', 'cli', 'drill', 'watch', 'emulators', 'providers'),
    ),
  },
  {
    files: ['src/aws/**/*.ts'],
    rules: restrict(
      SDK_PATTERN,
      below('aws/', 'evidence', 'engine', 'report', 'cli', 'drill', 'watch', 'emulators', 'providers'),
    ),
  },
  {
    files: ['providers/**/*.ts'],
    rules: restrict(SDK_PATTERN, below('providers/', 'engine', 'report', 'cli', 'drill', 'watch', 'emulators'), {
      regex: '^\\.\\./(?!\\.\\./)',
      message: 'A provider never imports another provider (docs/layout.md); share code through src/core or src/aws.',
    }),
  },
  {
    files: ['providers/*/client.ts'],
    rules: restrict(below('providers/', 'engine', 'report', 'cli', 'drill', 'watch', 'emulators'), {
      regex: '^\\.\\./(?!\\.\\./)',
      message: 'A provider never imports another provider (docs/layout.md); share code through src/core or src/aws.',
    }),
  },
  {
    files: ['src/engine/**/*.ts'],
    ignores: ['src/engine/registry.ts'],
    rules: restrict(SDK_PATTERN, below('engine/', 'report', 'cli', 'drill', 'watch', 'providers')),
  },
  {
    files: ['src/engine/registry.ts'],
    rules: restrict(SDK_PATTERN, below('engine/', 'report', 'cli', 'drill', 'watch')),
  },
  {
    files: ['src/report/**/*.ts'],
    rules: restrict(SDK_PATTERN, below('report/', 'cli', 'drill', 'watch')),
  },
  {
    // The watch daemon sits beside the CLI: it drives the engine through the library API and
    // renders sitreps, so it may import report/ and below, never the CLI or the drill.
    files: ['src/watch/**/*.ts'],
    ignores: ['src/watch/client.ts'],
    rules: restrict(SDK_PATTERN, below('watch/', 'cli', 'drill', 'providers')),
  },
  {
    files: ['src/watch/client.ts'],
    rules: restrict(below('watch/', 'cli', 'drill', 'providers')),
  },
  {
    files: ['src/emulators/**/*.ts'],
    rules: restrict(
      SDK_PATTERN,
      below('emulators/', 'evidence', 'aws', 'engine', 'report', 'cli', 'drill', 'providers'),
    ),
  },

  // The other two client.ts files: the shared AWS kit's (STS identity and assume-role, the EC2
  // security-group calls behind the isolation groups of EC2 and RDS) and the drill's (it seeds the
  // drill's emulators). Each keeps its layer's import direction; only the SDK rule is lifted.
  {
    files: ['src/aws/client.ts'],
    rules: restrict(below('aws/', 'evidence', 'engine', 'report', 'cli', 'drill', 'watch', 'emulators', 'providers')),
  },
  { files: ['src/drill/client.ts'], rules: { '@typescript-eslint/no-restricted-imports': 'off' } },

  // Tests, benchmarks and scripts drive servers directly (any SDK, any layer) and read raw server
  // JSON; a test may build a partial fake with `as never`.
  {
    files: ['test/**/*.{ts,mts,mjs}', 'bench/**/*.ts', 'scripts/**/*.mjs', 'tools/**/*.mjs', '*.config.{ts,mjs}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'as' }],
      'no-restricted-syntax': 'off',
    },
  },
);
