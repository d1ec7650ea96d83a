// Resolved at build time by worklets/build/inline-plugin.mjs: the bundled processors' source.
declare module 'talstream:worklet' {
  const source: string;
  export default source;
}

// The hands-free module (worklets/echo.ts): its worklet source inlined and the turn rules imported
// (ESM build, tests) or, in the script-tag build, the URL of dist/talstream.hands-free.js beside the
// running script (null when unknown), whose exports hold the turn rules.
declare module 'talstream:hands-free' {
  const handsFree: { source: string | null; url: string | null };
  export default handsFree;
  export const TurnTaking: typeof import('./conversation/turn-taking').TurnTaking | null;
}
