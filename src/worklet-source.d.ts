// Resolved at build time by worklets/build/inline-plugin.mjs: the bundled processors' source.
declare module 'talstream:worklet' {
  const source: string;
  export default source;
}
