/**
 * Import rules for src/: no circle between files or between folders (type-only imports count:
 * a type that needs the other file is a layering fact too), and the model/inference layers never
 * reach up into the analysis, GraphQL or server layers. `npm run check:deps` exits non-zero on
 * any violation.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle makes load order matter and hides which layer owns what.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-circle',
      severity: 'error',
      comment: 'Two folders that import each other are one layer in two places.',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'models-inference-stay-low',
      severity: 'error',
      comment: 'Models and inference sit below the analysis, GraphQL and server layers.',
      from: { path: '^src/(models|inference)/' },
      to: { path: '^src/(features|graphql|server)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    // Type-only imports are cruised too, so `import type` cannot hide a circle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
