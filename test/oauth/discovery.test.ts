import { describe, expect, it } from "vitest";
import { bridge } from "../support/bridge";
import { local } from "../support/console";
import { API_RESOURCE, ISSUER, MCP_RESOURCE } from "../support/oauth";

describe("RFC 9728 protected-resource metadata", () => {
  it.each([
    ["/.well-known/oauth-protected-resource/mcp", MCP_RESOURCE, ["calls:write", "calls:read", "account:read"]],
    [
      "/.well-known/oauth-protected-resource/v1",
      API_RESOURCE,
      ["calls:write", "calls:read", "account:read", "webhooks"],
    ],
    // The bare location answers for /mcp: clients that do not insert the path look there.
    ["/.well-known/oauth-protected-resource", MCP_RESOURCE, ["calls:write", "calls:read", "account:read"]],
  ])("%s names its resource on this host and this bridge as its server", async (path, resource, scopes) => {
    const res = await local(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toMatchObject({
      resource,
      authorization_servers: [ISSUER],
      scopes_supported: scopes,
      bearer_methods_supported: ["header"],
    });
  });

  it("on a real host the resource and its server are https, whatever scheme the request came in on", async () => {
    const res = await bridge("/.well-known/oauth-protected-resource/mcp");
    expect(await res.json()).toMatchObject({
      resource: "https://bridge.test/mcp",
      authorization_servers: ["https://bridge.test"],
    });
  });

  it("an unknown resource has no metadata", async () => {
    expect((await local("/.well-known/oauth-protected-resource/console")).status).toBe(404);
  });
});

describe("RFC 8414 authorization-server metadata", () => {
  it("offers the code flow with PKCE S256 only, rotation-ready refresh, revocation, DCR, CIMD and RFC 9207 iss", async () => {
    const res = await local("/.well-known/oauth-authorization-server");
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/oauth/token`,
      registration_endpoint: `${ISSUER}/oauth/register`,
      revocation_endpoint: `${ISSUER}/oauth/token`,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
      protected_resources: [MCP_RESOURCE, API_RESOURCE],
    });
    expect(meta.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token"]));
    expect(meta.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["none"]));
    // account:manage (keys, unlink) is never granted to an app.
    expect(meta.scopes_supported).toEqual(["calls:write", "calls:read", "account:read", "webhooks"]);
  });
});

describe("the 401 challenge", () => {
  it.each([
    ["POST", "/mcp", MCP_RESOURCE, "calls:write calls:read account:read"],
    ["GET", "/v1/me", API_RESOURCE, "calls:write calls:read account:read webhooks"],
    ["GET", "/v1/calls", API_RESOURCE, "calls:write calls:read account:read webhooks"],
  ])(
    "%s %s without a credential points at its resource's metadata, absolute, on this host",
    async (method, path, _r, scope) => {
      const res = await local(path, { method });
      expect(res.status).toBe(401);
      const metadata = `${path === "/mcp" ? MCP_RESOURCE.replace("/mcp", "") : ISSUER}/.well-known/oauth-protected-resource${path === "/mcp" ? "/mcp" : "/v1"}`;
      expect(res.headers.get("www-authenticate")).toBe(
        `Bearer realm="kallyai-bridge", resource_metadata="${metadata}", scope="${scope}"`,
      );
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("missing_api_key");
    },
  );

  it("a refused credential adds error=invalid_token and says why", async () => {
    const res = await local("/v1/me", { headers: { authorization: "Bearer u:g:not-a-token" } });
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate")!;
    expect(challenge).toContain(`resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/v1"`);
    expect(challenge).toContain('error="invalid_token"');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
  });

  it("every 401 under /v1 carries it, also one that is not about a token", async () => {
    const res = await local("/v1/link", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: "not-a-kallyai-token" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain(
      `resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/v1"`,
    );
    expect(res.headers.get("www-authenticate")).not.toContain("invalid_token");
  });
});

describe("the scopes /mcp asks for", () => {
  it("are exactly those its tools need", async () => {
    const { TOOLS } = await import("../../src/mcp/tools");
    const { RESOURCES } = await import("../../src/domain/oauth");
    expect([...new Set(TOOLS.map((t) => t.scope))].sort()).toEqual([...RESOURCES.mcp.scopes].sort());
  });
});
