// `@asteasolutions/zod-to-openapi` for the worker bundle (wrangler.toml [alias]). The worker serves
// /openapi.json as a file built in Node by scripts/openapi.mjs with the real library, so it needs
// none of the generator (~8 KiB gzipped): routes still register and validate with @hono/zod-openapi,
// `.openapi()` keeps the schema as it is, and the registry records nothing.
export class OpenAPIRegistry {
  definitions = [];
  register(_name, schema) {
    return schema;
  }
  registerParameter(_name, schema) {
    return schema;
  }
  registerPath() {}
  registerWebhook() {}
  registerComponent(type, name) {
    return { name, ref: { $ref: `#/components/${type}/${name}` } };
  }
}

class NotInTheWorker {
  generateDocument() {
    throw new Error("The OpenAPI document is built by scripts/openapi.mjs, not in the worker.");
  }
}

export { NotInTheWorker as OpenApiGeneratorV3, NotInTheWorker as OpenApiGeneratorV31 };

export function extendZodWithOpenApi(zod) {
  zod.ZodType.prototype.openapi ??= function openapi() {
    return this;
  };
}

export const getOpenApiMetadata = () => ({});
