// Resolved at build time by worklets/build/inline-plugin.mjs: the bundled processors' source.
declare module 'talstream:worklet' {
  const source: string;
  export default source;
}

// The echo module (worklets/echo.ts): its source inlined (ESM build, tests) or, in the script-tag
// build, the URL of dist/talstream.echo-worklet.js beside the running script (null when unknown).
declare module 'talstream:echo-worklet' {
  const echo: { source: string | null; url: string | null };
  export default echo;
}
