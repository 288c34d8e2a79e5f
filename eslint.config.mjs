// ESLint: correctness only. Layout belongs to Prettier (eslint-config-prettier, last, turns off every
// rule that would fight it). TypeScript files are linted with type information.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'coverage/', 'data/', 'models/', 'docs/', 'src/generated/', 'native/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against the tsconfig that owns it: tsconfig.json for the service,
        // web/tsconfig.json for the studio.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // An async function without await still turns a synchronous throw into a rejection, and implements
      // promise-returning interfaces (Apollo plugin hooks, the job queue, Database over synchronous SQLite).
      '@typescript-eslint/require-await': 'off',
      // Shapes and index lists in messages print as "1,28,28"; an exhaustive switch's `never` prints its value.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowArray: true, allowNever: true }],
      // `_`-prefixed names mark a deliberately unused parameter or destructured rest.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', '*.ts', '*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped JSON (supertest's res.body, JSON.parse, pg rows) and vitest's asymmetric
      // matchers (expect.any, expect.closeTo) are typed `any`: the assertion on the value is the check.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript outside the studio (this file, the worker bootstrap) is in no tsconfig: no type information.
    files: ['**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // CommonJS is what a .cjs file is for.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['web/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
    rules: {
      // The studio's GraphQL results are JSON typed by JSDoc casts (/** @type {T} */ (await gql(...))), which
      // typescript-eslint does not see in .js files: these rules would flag every cast result as `any`.
      // typecheck:web (tsc with checkJs) checks those casts' uses instead.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);
