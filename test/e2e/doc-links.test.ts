import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// Every relative link of the repository's markdown (the README, docs/, bench/, integrations/)
// points at a file that exists, and every #anchor at a heading that exists, as GitHub renders them.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Folders that hold no documentation of ours: dependencies, build output, copied assets. */
const SKIPPED_DIRS = new Set(["node_modules", "dist", "public", "screenshots"]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".") || SKIPPED_DIRS.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code, where links and headings are markdown. */
function prose(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split("\n").map((line) => {
    const marker = line.match(/^\s*(`{3,}|~{3,})/)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return "";
    }
    return fence === undefined ? line.replace(/(`+)[^`]*?\1/g, "") : "";
  });
}

/** GitHub's heading ids (github-slugger): lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  // Inline code is kept here: a heading's code is part of its id.
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const [, id] of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id as string);
    const heading = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/)?.[1];
    if (heading === undefined) continue;
    const base = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Inline links and images, reference definitions, and HTML href/src: their targets. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown).join("\n");
  return [
    ...[...text.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
    ...[...text.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]),
  ].filter((target): target is string => target !== undefined);
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");

/** Each relative link of these files that leads nowhere, as "file: target (why)". */
function brokenLinks(files: string[], root: string): string[] {
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    const cached = anchorCache.get(file);
    if (cached) return cached;
    const found = anchorsOf(readFileSync(file, "utf8"));
    anchorCache.set(file, found);
    return found;
  };
  const broken: string[] = [];
  for (const file of files) {
    for (const target of linkTargets(readFileSync(file, "utf8"))) {
      if (isExternal(target)) continue;
      const [path = "", anchor] = target.split("#", 2);
      const decoded = decodeURIComponent(path);
      const linked =
        path === "" ? file : decoded.startsWith("/") ? join(root, decoded) : resolve(dirname(file), decoded);
      const where = `${relative(root, file)}: ${target}`;
      if (!existsSync(linked)) broken.push(`${where} (no such file)`);
      else if (anchor && linked.endsWith(".md") && statSync(linked).isFile() && !anchors(linked).has(anchor))
        broken.push(`${where} (no heading #${anchor} in ${relative(root, linked)})`);
    }
  }
  return broken;
}

describe("links in the repository's markdown", () => {
  const files = markdownFiles(ROOT);

  it("covers the README, every file in docs/ and bench/README.md", () => {
    const names = files.map((file) => relative(ROOT, file));
    expect(names).toContain("README.md");
    expect(names).toContain("bench/README.md");
    for (const doc of readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md")))
      expect(names).toContain(`docs/${doc}`);
  });

  it("every relative link and #anchor resolves to a file and heading that exist", () => {
    expect(brokenLinks(files, ROOT)).toEqual([]);
  });
});

describe("the link check itself", () => {
  const dir = mkdtempSync(join(tmpdir(), "doc-links-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it("reports a missing file, a missing heading in another file and a missing heading in the same file", () => {
    write("other.md", "# Other\n\n## Keys and `scopes`\n\n## Keys and `scopes`\n");
    const file = write(
      "page.md",
      [
        "# Page: `one`",
        "[ok](other.md#keys-and-scopes) [ok](other.md#keys-and-scopes-1) [ok](#page-one) [ok](other.md)",
        "[gone](missing.md) [gone](other.md#nothing) [gone](#nowhere) ![gone](missing.png)",
        "[external](https://example.com/x.md#y) `[in code](not-a-link.md)`",
        "```",
        "[in a fence](not-a-link-either.md)",
        "```",
      ].join("\n"),
    );
    expect(brokenLinks([file], dir)).toEqual([
      "page.md: missing.md (no such file)",
      "page.md: other.md#nothing (no heading #nothing in other.md)",
      "page.md: #nowhere (no heading #nowhere in page.md)",
      "page.md: missing.png (no such file)",
    ]);
  });
});
