// The lint set-up lives in the tools/lint workspace (its own TypeScript for typescript-eslint); see there.
export { default } from './tools/lint/eslint.config.mjs';
