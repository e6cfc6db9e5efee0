/** The bridge's source files as text, by path from the repository root (for checks over the code). */
const files = import.meta.glob<string>("../../src/**/*.ts", { query: "?raw", import: "default", eager: true });

export default Object.fromEntries(Object.entries(files).map(([path, text]) => [path.replace(/^(\.\.\/)+/, ""), text]));
