import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { metered } from "../../src/storage/metered";

describe("a metered D1 handle", () => {
  it("counts one round trip per statement run and per batch, and every statement in a batch", async () => {
    const { db, meter } = metered(env.DB);
    expect(await db.prepare("SELECT ? AS n").bind(7).first<{ n: number }>()).toEqual({ n: 7 });
    await db.prepare("SELECT 1").all();
    expect(meter).toEqual({ roundTrips: 2, statements: 2 });
    const results = await db.batch([
      db.prepare("SELECT 1 AS a"),
      db.prepare("SELECT ? AS b").bind(2),
      env.DB.prepare("SELECT 3 AS c"),
    ]);
    expect(results.map((r) => r.results[0])).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    expect(meter).toEqual({ roundTrips: 3, statements: 5 });
  });
});
