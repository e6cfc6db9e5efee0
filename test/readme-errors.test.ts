import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import { ERROR_CODES } from "../src/http/error-codes";

/** The README's "Errors" section: from its heading to the next heading of the same or a higher level. */
function errorsSection(markdown: string): string {
  const start = markdown.indexOf("\n### Errors\n");
  expect(start, 'README has an "### Errors" section').toBeGreaterThan(-1);
  const rest = markdown.slice(start + 1);
  const end = rest.slice(4).search(/\n##{0,2} /);
  return end === -1 ? rest : rest.slice(0, end + 4);
}

describe("README error table", () => {
  it("lists every error code the bridge answers (ApiError takes only these: the type check holds the code)", () => {
    const section = errorsSection(readme);
    const missing = Object.keys(ERROR_CODES).filter((code) => !section.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
