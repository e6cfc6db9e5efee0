import { describe, expect, it } from "vitest";
import { addressBucket } from "../../src/http/client-ip";

describe("addressBucket: who a per-address limit counts", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["2001:db8:77:1:abcd::1", "2001:db8:77:1::/64"],
    ["2001:0DB8:0077:0001:0000:0000:0000:0001", "2001:db8:77:1::/64"],
    ["[2001:db8::1%eth0]", "2001:db8:0:0::/64"],
    ["::ffff:198.51.100.9", "198.51.100.9"],
    ["::ffff:c633:6409", "198.51.100.9"],
    ["0:0:0:0:0:ffff:c633:6409", "198.51.100.9"],
  ])("%s counts as %s", (ip, bucket) => {
    expect(addressBucket(ip)).toBe(bucket);
  });

  it("the addresses of one /64 share a bucket; the next /64 does not", () => {
    expect(addressBucket("2001:db8:77:1::1")).toBe(addressBucket("2001:db8:77:1:ffff:ffff:ffff:ffff"));
    expect(addressBucket("2001:db8:77:1::1")).not.toBe(addressBucket("2001:db8:77:2::1"));
  });
});
