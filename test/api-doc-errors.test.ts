import { describe, expect, it } from "vitest";
import api from "../docs/api.md?raw";
import { ERROR_CODES } from "../src/http/error-codes";

/** The "Errors" section of docs/api.md: from its heading to the next heading of the same or a higher level. */
function errorsSection(markdown: string): string {
  const start = markdown.indexOf("\n## Errors\n");
  expect(start, 'docs/api.md has an "## Errors" section').toBeGreaterThan(-1);
  const rest = markdown.slice(start + 1);
  const end = rest.slice(3).search(/\n#{1,2} /);
  return end === -1 ? rest : rest.slice(0, end + 3);
}

describe("the error table of docs/api.md", () => {
  it("lists every error code the bridge answers (ApiError takes only these: the type check holds the code)", () => {
    const section = errorsSection(api);
    const missing = Object.keys(ERROR_CODES).filter((code) => !section.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
