// A "bundle" that dies at once, as a broken build or a bad native module would.
console.error("exit-one: crashing on purpose");
process.exit(1);
