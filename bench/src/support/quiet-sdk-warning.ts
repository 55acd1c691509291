/**
 * The AWS SDK warns once per process that future versions need Node 22. Benchmarks print tables
 * that this would interleave with; every other warning still reaches stderr. Imported first.
 */
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  // The SDK puts the warning's kind at the start of its message, not in its name.
  if (!`${warning.name}: ${warning.message}`.includes('NodeVersionSupportWarning')) console.warn(warning);
});
